using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T56: the ops API's access control over a real socket to a real node. The node runs on the embedded default without
/// an admin token file, so it generates <c>{DataDir}/admin.token</c> (mode 0600) and logs its path, never the secret.
/// With it, tokens of each role are created; then every <c>/api/</c> route, taken from the node's own OpenAPI document
/// so that no route can be left out, is called with no token, a <c>read</c>, an <c>operate</c> and an <c>admin</c>
/// token: 401, 403 below the route's role, and otherwise an answer that is not about access. Health, metrics and the
/// API answer with another Host header (matching is on the local port); mutating calls leave audit records; an unknown
/// route is a 404 problem; repeated bad tokens are refused with 429 while a good token still works; a revoked token is
/// refused at once; and the drain route finally stops the node for an <c>operate</c> token.
/// </summary>
[ParallelScenario]
public sealed class T56_ApiAccessControl
{
    /// <summary>Every route, the least role it needs, and a harmless request for it (unknown ids answer 404).</summary>
    private static readonly (string Method, string Route, string Path, string Role, object? Body)[] Matrix =
    [
        ("GET", "/api/v1/cluster", "/api/v1/cluster", "read", null),
        ("GET", "/api/v1/queues/{domain}", $"/api/v1/queues/{Scenario.RelayDomain}", "read", null),
        ("GET", "/api/v1/tokens/current", "/api/v1/tokens/current", "read", null),
        ("POST", "/api/v1/queues/{domain}/flush", $"/api/v1/queues/{Scenario.RelayDomain}/flush", "operate", null),
        ("DELETE", "/api/v1/queues/{domain}/messages/{id}", $"/api/v1/queues/{Scenario.RelayDomain}/messages/nosuchmessage", "admin", null),
        ("POST", "/api/v1/queues/{domain}/messages/{id}/bounce", $"/api/v1/queues/{Scenario.RelayDomain}/messages/nosuchmessage/bounce", "admin", null),
        ("POST", "/api/v1/messages/{id}/hold", "/api/v1/messages/nosuchmessage/hold", "operate", null),
        ("POST", "/api/v1/messages/{id}/release", "/api/v1/messages/nosuchmessage/release", "operate", null),
        ("GET", "/api/v1/suspensions", "/api/v1/suspensions", "read", null),
        ("POST", "/api/v1/suspensions", "/api/v1/suspensions", "operate", new { domain = "matrix.test", duration_seconds = 1, reason = "T56 matrix" }),
        ("DELETE", "/api/v1/suspensions/{domain}", "/api/v1/suspensions/nosuch.test", "operate", null),
        ("GET", "/api/v1/tokens", "/api/v1/tokens", "admin", null),
        ("POST", "/api/v1/tokens", "/api/v1/tokens", "admin", new { name = "matrix", role = "read" }),
        ("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/00000000deadbeef", "admin", null),
        ("GET", "/api/v1/users", "/api/v1/users", "admin", null),
        ("POST", "/api/v1/users", "/api/v1/users", "admin", new { name = "matrix" }),
        ("PUT", "/api/v1/users/{name}", "/api/v1/users/nosuchuser", "admin", new { password = "x", allowed_senders = Array.Empty<string>() }),
        ("PATCH", "/api/v1/users/{name}", "/api/v1/users/nosuchuser", "admin", new { password = "x" }),
        ("DELETE", "/api/v1/users/{name}", "/api/v1/users/nosuchuser", "admin", null),
        ("GET", "/api/v1/keys", "/api/v1/keys", "admin", null),
        ("POST", "/api/v1/keys", "/api/v1/keys", "admin", new { name = "matrix" }),
        ("POST", "/api/v1/keys/{id}/disable", "/api/v1/keys/key_0000000000000000/disable", "admin", null),
        ("POST", "/api/v1/keys/{id}/enable", "/api/v1/keys/key_0000000000000000/enable", "admin", null),
        ("DELETE", "/api/v1/keys/{id}", "/api/v1/keys/key_0000000000000000", "admin", null),
        ("GET", "/api/v1/queues", "/api/v1/queues", "read", null),
        ("GET", "/api/v1/messages/{id}", "/api/v1/messages/nosuchmessage", "read", null),
        ("POST", "/api/v1/flush", "/api/v1/flush", "operate", null),
        ("GET", "/api/v1/tasks", "/api/v1/tasks", "read", null),
        ("GET", "/api/v1/tasks/{id}", "/api/v1/tasks/task-unknown", "read", null),
        ("POST", "/api/v1/tasks", "/api/v1/tasks", "admin", new { action = "delete", sender = "nobody@nowhere.test" }),
        ("GET", "/api/v1/events", "/api/v1/events", "read", null),
        ("GET", "/api/v1/messages/{id}/events", "/api/v1/messages/nosuchmessage/events", "read", null),
        ("GET", "/api/v1/webhooks", "/api/v1/webhooks", "admin", null),
        ("POST", "/api/v1/webhooks", "/api/v1/webhooks", "admin", new { url = "http://127.0.0.1:9/t56" }),
        ("DELETE", "/api/v1/webhooks/{id}", "/api/v1/webhooks/nosuchhook", "admin", null),
        ("GET", "/api/v1/webhooks/{id}/attempts", "/api/v1/webhooks/nosuchhook/attempts", "admin", null),
        ("GET", "/api/v1/suppressions", "/api/v1/suppressions", "read", null),
        ("GET", "/api/v1/suppressions/export", "/api/v1/suppressions/export?format=jsonl", "read", null),
        ("POST", "/api/v1/suppressions", "/api/v1/suppressions", "admin", new { address = $"matrix@{Scenario.RelayDomain}", reason = "t56" }),
        ("DELETE", "/api/v1/suppressions/{address}", $"/api/v1/suppressions/nobody@{Scenario.RelayDomain}", "admin", null),
        // Checked for 401 and 403 here; the allowed call drains the node, so it comes last.
        ("POST", "/api/v1/node/drain", "/api/v1/node/drain", "operate", null),
    ];

    private static readonly string[] Roles = ["read", "operate", "admin"];

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are POSIX
    public async Task Every_route_needs_a_token_of_its_role()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Ops__AdminTokenFile"] = "" });
        var node = await scenario.StartNodeAsync(config, "node-t56");

        // The generated admin token: owner read/write only, path logged, secret never logged.
        var tokenPath = Path.Combine(scenario.DataDir, "admin.token");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenPath));
        var admin = (await File.ReadAllTextAsync(tokenPath)).Trim();
        Assert.StartsWith("mct_", admin, StringComparison.Ordinal);
        Assert.Contains(tokenPath, node.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(admin, node.Log, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{config.OpsPort}"), Timeout = TimeSpan.FromSeconds(20) };
        var tokens = new Dictionary<string, (string Id, string Secret)>(StringComparer.Ordinal);
        foreach (var role in Roles)
        {
            using var created = await SendAsync(http, "POST", "/api/v1/tokens", admin, new { name = $"t56-{role}", role });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>();
            tokens[role] = (body.GetProperty("id").GetString()!, body.GetProperty("token").GetString()!);
        }

        // The matrix covers every route the API documents (and the document itself needs a token).
        using (var anonymous = await SendAsync(http, "GET", "/api/v1/openapi.json", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var openApi = await SendAsync(http, "GET", "/api/v1/openapi.json", tokens["read"].Secret))
        {
            Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
            var document = await openApi.Content.ReadFromJsonAsync<JsonElement>();
            var documented = document.GetProperty("paths").EnumerateObject()
                .SelectMany(p => p.Value.EnumerateObject().Select(m => (Route: $"{m.Name.ToUpperInvariant()} {p.Name}", Description: m.Value.GetProperty("description").GetString()!)))
                .OrderBy(r => r.Route, StringComparer.Ordinal)
                .ToList();
            Assert.Equal(Matrix.Select(r => $"{r.Method} {r.Route}").Order(StringComparer.Ordinal), documented.Select(d => d.Route));
            foreach (var (method, route, _, role, _) in Matrix)
            {
                Assert.Contains($"role '{role}'", documented.Single(d => d.Route == $"{method} {route}").Description, StringComparison.Ordinal);
            }

            Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        }

        foreach (var (method, route, path, role, body) in Matrix)
        {
            using (var none = await SendAsync(http, method, path, null, body))
            {
                await AssertProblemAsync(none, HttpStatusCode.Unauthorized, $"{method} {route} without a token");
                Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
            }

            foreach (var caller in Roles)
            {
                bool allowed = Array.IndexOf(Roles, caller) >= Array.IndexOf(Roles, role);
                if (allowed && route == "/api/v1/node/drain")
                {
                    continue;
                }

                using var response = await SendAsync(http, method, path, tokens[caller].Secret, body);
                var what = $"{method} {route} with a {caller} token";
                if (allowed)
                {
                    Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)response.StatusCode < 500,
                        $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                else
                {
                    await AssertProblemAsync(response, HttpStatusCode.Forbidden, what);
                }
            }
        }

        // Not about access: an unknown route is a 404 problem (after authentication), bad input names its field.
        using (var unknown = await SendAsync(http, "GET", "/api/v1/nosuchroute", tokens["read"].Secret))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "an unknown route");
        }

        using (var unknownAnonymous = await SendAsync(http, "GET", "/api/v1/nosuchroute", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknownAnonymous.StatusCode);
        }

        using (var badRole = await SendAsync(http, "POST", "/api/v1/tokens", admin, new { name = "x", role = "root" }))
        {
            Assert.Equal("role", (await AssertProblemAsync(badRole, HttpStatusCode.BadRequest, "a bad role")).GetProperty("field").GetString());
        }

        using (var badLimit = await SendAsync(http, "GET", $"/api/v1/queues/{Scenario.RelayDomain}?limit=0", admin))
        {
            Assert.Equal("limit", (await AssertProblemAsync(badLimit, HttpStatusCode.BadRequest, "a bad limit")).GetProperty("field").GetString());
        }

        // Matching is on the local port, not the Host header (a port-forward, a Service on port 80, an ingress).
        foreach (var path in new[] { "/healthz/live", "/healthz/ready", "/metrics", "/", "/api/v1/cluster" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            request.Headers.Host = "mail.example.org";
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["read"].Secret);
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} with Host mail.example.org: {(int)response.StatusCode}");
        }

        // Audit records of mutating calls: allowed (with the outcome) and refused.
        var adminId = tokens["admin"].Id;
        await node.WaitForLogAsync(
            $"audit: token={adminId} name=t56-admin DELETE /api/v1/queues/{{domain}}/messages/{{id}} target=domain={Scenario.RelayDomain} id=nosuchmessage status=404",
            TimeSpan.FromSeconds(5));
        await node.WaitForLogAsync($"audit: token={tokens["read"].Id} name=t56-read POST /api/v1/queues/{{domain}}/flush target=domain={Scenario.RelayDomain} status=403", TimeSpan.FromSeconds(5));
        await node.WaitForLogAsync($"audit: token=- name=- POST /api/v1/node/drain", TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(tokens["admin"].Secret, node.Log, StringComparison.Ordinal);

        // Revocation takes effect on this node at once.
        using (var revoke = await SendAsync(http, "DELETE", $"/api/v1/tokens/{tokens["read"].Id}", admin))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        using (var revoked = await SendAsync(http, "GET", "/api/v1/cluster", tokens["read"].Secret))
        {
            await AssertProblemAsync(revoked, HttpStatusCode.Unauthorized, "a revoked token");
        }

        using (var list = await SendAsync(http, "GET", "/api/v1/tokens", admin))
        {
            var listed = (await list.Content.ReadAsStringAsync());
            Assert.DoesNotContain(tokens["read"].Id, listed, StringComparison.Ordinal);
            Assert.Contains(tokens["operate"].Id, listed, StringComparison.Ordinal);
            Assert.DoesNotContain("mct_", listed, StringComparison.Ordinal);
        }

        // Bad tokens from one address (the revoked one above was the first): refused with 429 once there were too many
        // (10 a minute); a good token still works.
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 12; i++)
        {
            using var guess = await SendAsync(http, "GET", "/api/v1/cluster", "mct_guess" + i.ToString(CultureInfo.InvariantCulture));
            statuses.Add(guess.StatusCode);
            if (guess.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(guess.Headers.RetryAfter?.Delta);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 8), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 4)], statuses);
        using (var good = await SendAsync(http, "GET", "/api/v1/cluster", tokens["operate"].Secret))
        {
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        }

        // Last: drain is allowed to an operate token, and the node leaves.
        using (var drain = await SendAsync(http, "POST", "/api/v1/node/drain", tokens["operate"].Secret))
        {
            Assert.Equal(HttpStatusCode.Accepted, drain.StatusCode);
        }

        Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"audit: token={tokens["operate"].Id} name=t56-operate POST /api/v1/node/drain target= status=202", node.Log, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        return await http.SendAsync(request);
    }

    /// <summary>Asserts the status and that the body is an RFC 7807 problem of it; returns the problem.</summary>
    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{what}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        return problem;
    }
}
