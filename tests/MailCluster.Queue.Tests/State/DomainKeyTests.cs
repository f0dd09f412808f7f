using MailCluster.Queue;
using Xunit;

namespace MailCluster.Queue.Tests.State;

public class DomainKeyTests
{
    [Theory]
    [InlineData("Example.COM", "example.com")]
    [InlineData("example.com.", "example.com")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("XN--BCHER-KVA.example", "xn--bcher-kva.example")]
    [InlineData("[192.0.2.1]", "[192.0.2.1]")]
    public void Normalises_case_trailing_dot_and_idna(string input, string expected) =>
        Assert.Equal(expected, DomainKey.Normalize(input));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("a..b")]
    public void Rejects_invalid(string input) => Assert.Null(DomainKey.TryNormalize(input));

    [Fact]
    public void Domain_of_address_uses_last_at() => Assert.Equal("example.org", DomainKey.OfAddress("\"a@b\"@Example.ORG"));
}
