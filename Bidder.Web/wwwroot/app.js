// The only script of Bidder's own: the browser's time zone (IANA name), so times show in the person's local time.
window.bidder = {
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
};
