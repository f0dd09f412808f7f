using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

public static partial class ReceivedHeaderAssert
{
    /// <summary>DESIGN invariant 4: the relayed bytes are the sent bytes with exactly one Received field in front.</summary>
    public static void IsSentBytesWithOneReceivedHeader(byte[] sent, byte[] relayed)
    {
        Assert.True(relayed.Length > sent.Length, "relayed message is not longer than the sent one");
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(relayed.AsSpan(relayed.Length - sent.Length)));
        var prefix = Encoding.UTF8.GetString(relayed.AsSpan(0, relayed.Length - sent.Length));
        Assert.Matches(OneReceivedField(), prefix);
    }

    [GeneratedRegex(@"\AReceived: from [^\r\n]+(\r\n\t[^\r\n]+)*\r\n\z")]
    private static partial Regex OneReceivedField();
}
