using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>Calls to the cluster-wide view and task routes shared by T85–T89.</summary>
public static class ViewApi
{
    /// <summary>GETs <paramref name="path"/> until <paramref name="until"/> holds (30 s by default); returns the last answer
    /// and fails with it when the condition never held.</summary>
    public static async Task<JsonElement> PollAsync(HttpClient http, string path, Func<JsonElement, bool> until, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(until);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var answer = await QueueApiClient.GetJsonAsync(http, path, HttpStatusCode.OK);
            if (until(answer))
            {
                return answer;
            }

            Assert.True(DateTime.UtcNow < deadline, $"GET {path} never met the condition; last answer: {answer}");
            await Task.Delay(250);
        }
    }

    /// <summary>The summary rows (GET /api/v1/queues) by entity id.</summary>
    public static Dictionary<string, JsonElement> Rows(JsonElement summary) =>
        summary.GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("queue").GetString()!, StringComparer.Ordinal);

    public static IReadOnlyList<string> Unanswered(JsonElement answer) =>
        [.. answer.GetProperty("unanswered_nodes").EnumerateArray().Select(n => n.GetString()!)];

    /// <summary>POST /api/v1/tasks; asserts 202 and returns the task's id.</summary>
    public static async Task<string> StartTaskAsync(HttpClient http, object body)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.PostAsJsonAsync(new Uri("/api/v1/tasks", UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /api/v1/tasks: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        Assert.Equal("running", document.RootElement.GetProperty("state").GetString());
        return document.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>POST /api/v1/tasks expecting a 400 problem; returns the field it names.</summary>
    public static async Task<string?> RefusedTaskFieldAsync(HttpClient http, object body)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.PostAsJsonAsync(new Uri("/api/v1/tasks", UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"POST /api/v1/tasks {JsonSerializer.Serialize(body)}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.TryGetProperty("field", out var field) ? field.GetString() : null;
    }

    /// <summary>Polls the task until it is no longer running (60 s by default).</summary>
    public static Task<JsonElement> WaitForTaskAsync(HttpClient http, string id, TimeSpan? timeout = null) =>
        PollAsync(http, $"/api/v1/tasks/{Uri.EscapeDataString(id)}", t => t.GetProperty("state").GetString() != "running", timeout ?? TimeSpan.FromSeconds(60));
}
