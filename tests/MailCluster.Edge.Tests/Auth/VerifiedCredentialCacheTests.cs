using MailCluster.Edge.Auth;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class VerifiedCredentialCacheTests
{
    [Fact]
    public void Remembers_a_verified_triple_and_nothing_else()
    {
        var cache = new VerifiedCredentialCache();
        cache.Add("alice", "hash-1", "pw");
        Assert.True(cache.Contains("alice", "hash-1", "pw"));
        Assert.True(cache.Contains("ALICE", "hash-1", "pw")); // names are case-insensitive, as logins are
        Assert.False(cache.Contains("alice", "hash-1", "pw2"));
        Assert.False(cache.Contains("alice", "hash-2", "pw")); // a changed password has a new hash
        Assert.False(cache.Contains("bob", "hash-1", "pw"));
    }

    [Fact]
    public void Is_bounded_and_drops_the_oldest_first()
    {
        var cache = new VerifiedCredentialCache(capacity: 2);
        cache.Add("a", "h", "1");
        cache.Add("b", "h", "2");
        cache.Add("c", "h", "3");
        Assert.Equal(2, cache.Count);
        Assert.False(cache.Contains("a", "h", "1"));
        Assert.True(cache.Contains("b", "h", "2"));
        Assert.True(cache.Contains("c", "h", "3"));
    }

    [Fact]
    public void Entries_expire()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new VerifiedCredentialCache(lifetime: TimeSpan.FromMinutes(1), clock: clock);
        cache.Add("a", "h", "pw");
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.Contains("a", "h", "pw"));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.Contains("a", "h", "pw"));
    }

    [Fact]
    public void Length_prefixes_keep_different_triples_apart()
    {
        var cache = new VerifiedCredentialCache();
        cache.Add("a", "b\0c", "d");
        Assert.False(cache.Contains("a\0b", "c", "d"));
    }
}
