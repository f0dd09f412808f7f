using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>T04: a bad setting stops the node at start with exit code 2 and an error that names the key.</summary>
[ParallelScenario]
public class T04_RejectsBadConfiguration
{
    [Theory]
    [InlineData("MailCluster__Smtp__MxPort", "70000", "MailCluster__Smtp__MxPort")]
    [InlineData("MailCluster__Smtp__MxPort", "twenty-five", "MailCluster__Smtp__MxPort")]
    [InlineData("MailCluster__Smtp__TrustedNetworks__0", "10.0.0.0/99", "MailCluster__Smtp__TrustedNetworks__0")]
    [InlineData("MailCluster__Storage__Provider", "Oracle", "MailCluster__Storage__Provider")]
    [InlineData("MailCluster__Dns__Servers__0", "127.0.0.1:notaport", "MailCluster__Dns__Servers__0")]
    [InlineData("MailCluster__Smtp__MxPrt", "25", "MailCluster__Smtp__MxPrt")]
    [InlineData("MailCluster__Queue__OrphanSweep__MinAgeSeconds", "60", "MailCluster__Queue__OrphanSweep__MinAgeSeconds")]
    [InlineData("MailCluster__Queue__OrphanSweep__Interval", "60", "MailCluster__Queue__OrphanSweep__Interval")]
    public async Task Names_the_bad_key(string key, string value, string named)
    {
        await using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            [key] = value,
            ["MailCluster__DataDir"] = Path.Combine(Path.GetTempPath(), "mc-badconfig"),
        });
        var exitCode = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains(named, node.Log, StringComparison.Ordinal);
    }
}
