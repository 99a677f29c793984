using FsCheck;
using FsCheck.Fluent;
using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Profiles;

public sealed class PiecewiseLinearTests
{
    private static readonly PiecewiseLinear Function = new([(100, 1.0), (200, 3.0), (400, 4.0)]);

    [Theory]
    [InlineData(100, 1.0)]
    [InlineData(150, 2.0)]
    [InlineData(200, 3.0)]
    [InlineData(300, 3.5)]
    [InlineData(50, 1.0)]   // flat below the first point
    [InlineData(600, 5.0)]  // last slope continued above
    public void Interpolates_between_points_and_extrapolates_outside(double x, double expected) =>
        Assert.Equal(expected, Function.Evaluate(x), 12);

    [Fact]
    public void Never_extrapolates_downwards()
    {
        var falling = new PiecewiseLinear([(1, 5.0), (2, 4.0)]);
        Assert.Equal(4.0, falling.Evaluate(100), 12);
    }

    [Fact]
    public void Values_between_two_points_lie_between_their_values()
    {
        Prop.ForAll(Gen.Choose(100, 400).ToArbitrary(), x =>
        {
            var value = Function.Evaluate(x);
            return x <= 200 ? value is >= 1.0 and <= 3.0 : value is >= 3.0 and <= 4.0;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Duplicate_x_values_are_rejected() =>
        Assert.Throws<ArgumentException>(() => new PiecewiseLinear([(1, 1.0), (1, 2.0)]));
}
