using System.Text.Json;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// Waits on the node's own account of its queues, through the queue API (<see cref="QueueApiClient"/>), instead of
/// sleeping: a scenario asserts what did not arrive only after the node has provably finished (or retried).
/// </summary>
public static class QueueWait
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Until the domains' queues hold no message. A message leaves its domain queue only when every recipient is final
    /// and its DSN, if any, is queued in the sender's domain queue; so once the queues are empty, taken in the order
    /// mail flows through them, the node has finished with everything it accepted for them.
    /// </summary>
    /// <param name="domains">Recipient domains first, then the sender's domain when a DSN may go there.</param>
    public static async Task UntilEmptyAsync(NodeConfig config, params string[] domains)
    {
        ArgumentNullException.ThrowIfNull(domains);
        using var http = Client(config);
        foreach (var domain in domains)
        {
            var listing = await QueueApiClient.PollAsync(http, $"/api/v1/queues/{domain}", Empty, Timeout);
            Assert.True(Empty(listing), $"the {domain} queue did not empty within {Timeout.TotalSeconds:0} s: {listing}");
        }
    }

    /// <summary>Until every recipient queued for <paramref name="domain"/> has had at least <paramref name="attempts"/>
    /// delivery attempts, each one finished (its outcome recorded); returns that listing.</summary>
    public static async Task<JsonElement> UntilAttemptedAsync(NodeConfig config, string domain, int attempts)
    {
        using var http = Client(config);
        bool Attempted(JsonElement listing) =>
            listing.GetProperty("total").GetInt32() > 0
            && listing.GetProperty("messages").EnumerateArray()
                .SelectMany(m => m.GetProperty("recipients").EnumerateArray())
                .All(r => r.GetProperty("attempts").GetInt32() >= attempts);
        var last = await QueueApiClient.PollAsync(http, $"/api/v1/queues/{domain}", Attempted, Timeout);
        Assert.True(Attempted(last), $"the {domain} queue did not reach {attempts} attempts within {Timeout.TotalSeconds:0} s: {last}");
        return last;
    }

    /// <summary>The one place these waits make an ops API client.</summary>
    private static HttpClient Client(NodeConfig config) => QueueApiClient.For(config);

    /// <summary>No message listed, and every queue of the domain answered (an unanswered bucket may still hold mail).</summary>
    private static bool Empty(JsonElement listing) =>
        listing.GetProperty("total").GetInt32() == 0 && listing.GetProperty("unanswered").GetArrayLength() == 0;
}
