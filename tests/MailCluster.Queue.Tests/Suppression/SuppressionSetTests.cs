using MailCluster.Queue.Bounces;
using MailCluster.Queue.Suppression;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace MailCluster.Queue.Tests.Suppression;

/// <summary>The suppression rules: scopes, expiry, address normalisation, and the entry a hard bounce makes.</summary>
public sealed class SuppressionSetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    private static SuppressionEntry Entry(string address, string? credential, int days = 30) =>
        new(SuppressionEntry.Normalize(address), credential, "test", "test", T0, T0.AddDays(days));

    [Fact]
    public void A_global_entry_suppresses_for_every_credential_and_for_none()
    {
        var set = new SuppressionSet([Entry("gone@example.com", null)]);

        Assert.NotNull(set.Find("gone@example.com", "alice", T0));
        Assert.NotNull(set.Find("gone@example.com", "bob", T0));
        Assert.NotNull(set.Find("gone@example.com", null, T0));
    }

    [Fact]
    public void A_credential_entry_suppresses_only_for_that_credential()
    {
        var set = new SuppressionSet([Entry("unsubscribed@example.com", "alice")]);

        Assert.Equal("alice", set.Find("unsubscribed@example.com", "alice", T0)?.Credential);
        Assert.Null(set.Find("unsubscribed@example.com", "bob", T0));
        Assert.Null(set.Find("unsubscribed@example.com", null, T0));
    }

    [Fact]
    public void An_entry_lapses_at_its_expiry()
    {
        var clock = new FakeTimeProvider(T0);
        var list = new SuppressionList(clock);
        list.Replace(new SuppressionSet([Entry("gone@example.com", null, days: 30)]));

        clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.NotNull(list.Find("gone@example.com", "alice"));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(list.Find("gone@example.com", "alice"));
    }

    [Fact]
    public void Addresses_match_whatever_their_case_and_surrounding_space() =>
        Assert.NotNull(new SuppressionSet([Entry(" Gone@Example.COM", null)]).Find("gONE@example.com", null, T0));

    [Fact]
    public void A_global_entry_wins_over_the_credential_s_own()
    {
        var set = new SuppressionSet([Entry("x@example.com", "alice", days: 1), Entry("x@example.com", null, days: 30)]);

        Assert.Null(set.Find("x@example.com", "alice", T0)!.Credential);
    }

    [Fact]
    public void A_hard_bounce_makes_a_global_entry_with_its_reply_as_the_source()
    {
        var bounce = new HardBounce("Nobody@Example.com", "InvalidRecipient", 550, "5.1.1", "user unknown", "Q42", T0);

        var entry = AutoSuppression.EntryFor(bounce, TimeSpan.FromDays(30), T0);

        Assert.Equal(new SuppressionEntry("nobody@example.com", null, "hard bounce (InvalidRecipient)", "Q42: 550 5.1.1 user unknown", T0, T0.AddDays(30)), entry);
        Assert.Equal("global", entry.Scope);
    }

    [Theory]
    [InlineData("bob@example.com", true)]
    [InlineData("bob", false)]
    [InlineData("@example.com", false)]
    [InlineData("bob@", false)]
    [InlineData("bob smith@example.com", false)]
    [InlineData("<bob@example.com>", false)]
    [InlineData("", false)]
    public void Only_mailbox_addresses_can_be_suppressed(string address, bool ok) =>
        Assert.Equal(ok, SuppressionEntry.AddressProblem(address) is null);

    [Fact]
    public void Options_default_to_30_days_and_the_three_hard_labels()
    {
        var options = new SuppressionOptions();

        Assert.Equal(TimeSpan.FromDays(30), options.Expiry);
        Assert.Equal(["InvalidRecipient", "BadDomain", "InactiveMailbox"], options.EffectiveLabels);
        Assert.Empty(options.Problems());
        Assert.Equal("MailCluster:Suppression:ExpiryDays", Assert.Single(new SuppressionOptions { ExpiryDays = 0 }.Problems()).Key);
    }
}
