using MailCluster.Edge.Auth;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class SenderAuthorizationTests
{
    private static readonly SmtpUser Alice = new("alice", ["alice@Example.COM", "example.org", "@Bücher.example", "\"a@b\"@quoted.example"]);

    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("alice@EXAMPLE.com")]                 // domain case-insensitive
    [InlineData("alice@example.com.")]                // trailing dot
    [InlineData("<alice@example.com>")]               // brackets tolerated
    [InlineData("anyone@example.org")]                // bare domain entry
    [InlineData("x@EXAMPLE.ORG")]
    [InlineData("x@bücher.example")]                  // @domain entry, IDNA U-label
    [InlineData("x@xn--bcher-kva.example")]           // ... and A-label
    [InlineData("\"a@b\"@quoted.example")]            // local part with '@' splits at the last one
    public void Allowed(string sender) => Assert.True(SenderAuthorization.IsAllowed(Alice, sender));

    [Theory]
    [InlineData("Alice@example.com")]                 // local part is case-sensitive
    [InlineData("bob@example.com")]
    [InlineData("x@sub.example.org")]                 // domains do not cover subdomains
    [InlineData("x@example.org.evil.example")]
    [InlineData("x@evilexample.org")]
    [InlineData("alice@example.comx")]
    [InlineData("")]                                  // null reverse-path
    [InlineData("<>")]
    [InlineData("alice")]
    [InlineData("@example.org")]
    [InlineData("alice@")]
    [InlineData("b\"@quoted.example")]
    public void Refused(string sender) => Assert.False(SenderAuthorization.IsAllowed(Alice, sender));

    [Fact]
    public void Empty_list_allows_nothing() =>
        Assert.False(SenderAuthorization.IsAllowed(new SmtpUser("bob", []), "bob@example.com"));

    [Fact]
    public void Null_sender_is_refused_even_for_a_domain_wide_user() =>
        Assert.False(SenderAuthorization.IsAllowed(new SmtpUser("bob", ["example.com"]), string.Empty));

    [Fact]
    public void Invalid_entries_are_ignored_not_fatal() =>
        Assert.True(SenderAuthorization.IsAllowed(new SmtpUser("bob", ["", "not valid", "bob@example.com"]), "bob@example.com"));

    [Theory]
    [InlineData("user@example.com", true)]
    [InlineData("example.com", true)]
    [InlineData("@example.com", true)]
    [InlineData("bücher.example", true)]
    [InlineData("[192.0.2.1]", true)]
    [InlineData("", false)]
    [InlineData(" ", false)]
    [InlineData(" example.com", false)]
    [InlineData("@", false)]
    [InlineData("@@example.com", false)]
    [InlineData("user@", false)]
    [InlineData("a..b", false)]
    [InlineData("not a domain", false)]
    [InlineData(null, false)]
    public void Entry_validation(string? entry, bool valid) => Assert.Equal(valid, SenderAuthorization.IsValidEntry(entry));
}
