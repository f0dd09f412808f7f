namespace MailCluster.Outbound.Tests;

public sealed class MxOrderingTests
{
    private static MxTarget T(string host, int preference) => new(host, preference, []);

    [Fact]
    public void Orders_by_ascending_preference()
    {
        var ordered = MxOrdering.Order([T("c", 30), T("a", 10), T("b", 20)], new Random(1));
        Assert.Equal(["a", "b", "c"], ordered.Select(t => t.Host));
    }

    [Fact]
    public void Shuffles_equal_preferences_but_never_crosses_groups()
    {
        MxTarget[] input = [T("backup", 20), T("x", 10), T("y", 10), T("z", 10)];
        var random = new Random(42);
        var firsts = new Dictionary<string, int>();
        for (int run = 0; run < 3000; run++)
        {
            var ordered = MxOrdering.Order(input, random);
            Assert.Equal("backup", ordered[^1].Host);
            Assert.Equal(["x", "y", "z"], ordered.Take(3).Select(t => t.Host).Order());
            firsts[ordered[0].Host] = firsts.GetValueOrDefault(ordered[0].Host) + 1;
        }

        // Each of the three equals leads about a third of the time (1000 expected; 800 is > 6 sigma away).
        Assert.All(["x", "y", "z"], host => Assert.InRange(firsts[host], 800, 1200));
    }

    [Fact]
    public void Null_MX_is_a_single_root_exchange()
    {
        Assert.True(MxOrdering.IsNullMx([(".", 0)]));
        Assert.True(MxOrdering.IsNullMx([("", 0)]));
        Assert.False(MxOrdering.IsNullMx([(".", 0), ("mx.example.test", 10)]));
        Assert.False(MxOrdering.IsNullMx([("mx.example.test", 0)]));
    }
}
