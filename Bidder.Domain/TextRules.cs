using System.Text;

namespace Bidder.Domain;

/// <summary>
/// What free text a bid or record may hold, for every way in: the API's request checks and the streamer's
/// decoder (a message on the topic may come from any producer) apply the same rules.
/// </summary>
public static class TextRules
{
    /// <summary>The longest <c>client</c> a bid may name, in characters (Unicode scalar values).</summary>
    public const int MaxClientLength = 50;

    /// <summary>A user's display name, whether the API's admin route or the identity service's registration takes it.</summary>
    public const int MaxUserNameLength = 100;

    /// <summary>Why <paramref name="text"/> is not acceptable as a field of at most <paramref name="maxLength"/> characters, or null when it is.</summary>
    public static string? Problem(string text, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "must not be empty.";
        }

        // Counted before anything else walks the text, and bounded, so a huge value costs no more than its length.
        if (text.Length > 2 * maxLength || CountRunes(text) > maxLength)
        {
            return $"must be at most {maxLength} characters.";
        }

        if (!IsWellFormed(text))
        {
            return "must not contain control characters or unpaired surrogates.";
        }

        return null;
    }

    private static int CountRunes(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    /// <summary>No control characters and no unpaired surrogates (which no store can encode as UTF-8).</summary>
    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]) || Rune.IsControl(new Rune(text[i])))
            {
                return false;
            }
        }

        return true;
    }
}
