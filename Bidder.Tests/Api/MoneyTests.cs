using System.Globalization;
using Bidder.Domain;

namespace Bidder.Tests.Api;

public class MoneyTests
{
    // The request contracts state the money limits as attribute text for the OpenAPI document; the API checks
    // the decimals. They must stay the same numbers.
    [Fact]
    public void The_limits_the_document_states_are_the_ones_the_api_checks()
    {
        Assert.Equal(Money.MaxValue, decimal.Parse(Money.MaxValueText, CultureInfo.InvariantCulture));
        Assert.Equal(0.01m, decimal.Parse(Money.MinValueText, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("90000000000000000", true)]
    [InlineData("90000000000000000.01", false)]
    [InlineData("79228162514264337593543950335", false)]
    public void Only_amounts_that_fit_in_cents_have_cents(string amount, bool fits)
    {
        var value = decimal.Parse(amount, CultureInfo.InvariantCulture);

        Assert.Equal(fits, Money.TryToCents(value, out var cents));
        if (fits)
        {
            Assert.Equal(value * 100m, cents);
        }
    }
}
