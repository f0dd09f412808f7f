using System.Text;
using MailCluster.Edge.Session;
using Xunit;

namespace MailCluster.Edge.Tests.Session;

/// <summary>The client address in the Received field is an RFC 5321 §4.1.3 address literal.</summary>
public class ReceivedHeaderTests
{
    [Theory]
    [InlineData("192.0.2.1", "[192.0.2.1]")]
    [InlineData("::1", "[IPv6:::1]")]
    [InlineData("2001:db8::25", "[IPv6:2001:db8::25]")]
    [InlineData("::ffff:127.0.0.1", "[127.0.0.1]")]
    [InlineData("not-an-address", "[not-an-address]")]
    public void Address_literal(string address, string expected) =>
        Assert.Equal(expected, ReceivedHeader.AddressLiteral(address));

    [Fact]
    public void An_ipv6_client_is_written_with_the_IPv6_tag()
    {
        var trace = new ReceivedHeader.Trace("client.test", "::1", "mx.test", "ESMTP", "Q1", ["a@b.test"],
            new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero), null, null);
        string header = Encoding.UTF8.GetString(ReceivedHeader.Build(trace));
        Assert.StartsWith("Received: from client.test ([IPv6:::1])\r\n\tby mx.test (MailCluster) with ESMTP", header, StringComparison.Ordinal);
    }
}
