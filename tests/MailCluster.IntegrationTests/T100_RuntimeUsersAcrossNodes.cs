using System.Net;
using System.Net.Http.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T100: SMTP users managed at run time. Two nodes on the harness's PostgreSQL: a user created through the first
/// node's ops API logs in on the second within 5 s, sends as its senders only; a changed password is refused on the
/// first node within 5 s (the verified-credential cache of that node holds the old one: it must not answer for it);
/// the removed user is refused on the second within 5 s. No restart.
/// </summary>
public sealed class T100_RuntimeUsersAcrossNodes
{
    private static readonly string[] App1Senders = ["app1@senders.test"];

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_user_created_changed_and_removed_through_one_node_is_in_force_on_the_other_within_5_seconds()
    {
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 1);
        var nodes = cluster.AddNodes(2, new Dictionary<string, string> { ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10" });
        await cluster.StartAllAsync();
        using var first = QueueApiClient.For(nodes[0].Config!);
        using var second = QueueApiClient.For(nodes[1].Config!);
        var (port0, port1) = (nodes[0].Config!.SubmissionsPort, nodes[1].Config!.SubmissionsPort);

        using (var created = await first.PostAsJsonAsync(new Uri("/api/v1/users", UriKind.Relative), new { name = "app1", password = "t100 first password", allowed_senders = App1Senders }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var loggedIn = await AuthSubmission.WaitForAuthAsync(port1, "APP1", "t100 first password", "235 ");
        Assert.True(loggedIn < Bound, $"the second node accepted the new user after {loggedIn}");

        var (reply, client) = await AuthSubmission.LoginAsync(port1, "app1", "t100 first password");
        await using (client)
        {
            Assert.StartsWith("235 ", reply, StringComparison.Ordinal);
            Assert.StartsWith("553 5.7.1 ", await AuthSubmission.MailFromAsync(client, "other@senders.test"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await AuthSubmission.MailFromAsync(client, "app1@senders.test"), StringComparison.Ordinal);
        }

        // The first node verifies (and caches) the first password, then it changes through the second node.
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port0, "app1", "t100 first password"), StringComparison.Ordinal);
        using (var patched = await second.PatchAsJsonAsync(new Uri("/api/v1/users/app1", UriKind.Relative), new { password = "t100 second password" }))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }

        var oldRefused = await AuthSubmission.WaitForAuthAsync(port0, "app1", "t100 first password", "535 5.7.8 ");
        Assert.True(oldRefused < Bound, $"the first node accepted the old password {oldRefused} after the change");
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port0, "app1", "t100 second password"), StringComparison.Ordinal);

        var listing = await first.GetStringAsync(new Uri("/api/v1/users", UriKind.Relative));
        Assert.Contains("\"app1\"", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("pbkdf2", listing, StringComparison.Ordinal);

        using (var removed = await first.DeleteAsync(new Uri("/api/v1/users/app1", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        }

        var refused = await AuthSubmission.WaitForAuthAsync(port1, "app1", "t100 second password", "535 5.7.8 ");
        Assert.True(refused < Bound, $"the second node accepted the removed user {refused} after the removal");
        using var again = await first.DeleteAsync(new Uri("/api/v1/users/app1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }
}
