using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>Calls to the ops API (<c>/api/v1/...</c>) shared by the T4x/T5x scenarios. Every call carries a bearer
/// token: <see cref="For"/> makes a client for a node with its admin token (or another).</summary>
public static class QueueApiClient
{
    /// <summary>A client for <paramref name="config"/>'s ops port sending <paramref name="token"/> (default: the node's admin token).</summary>
    public static HttpClient For(NodeConfig config, string? token = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{config.OpsPort}"),
            Timeout = timeout ?? TimeSpan.FromSeconds(20),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? config.AdminToken);
        return http;
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {path}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Lists until <paramref name="until"/> holds for a listing with messages (or an empty queue), or the
    /// timeout (30 s by default) passes; returns the last listing either way.</summary>
    public static async Task<JsonElement> PollAsync(HttpClient http, string path, Func<JsonElement, bool> until, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(until);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var listing = await GetJsonAsync(http, path, HttpStatusCode.OK);
            if ((listing.GetProperty("messages").GetArrayLength() > 0 || listing.GetProperty("total").GetInt32() == 0) && until(listing) || DateTime.UtcNow > deadline)
            {
                return listing;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>POST or DELETE <paramref name="path"/>; asserts the status and returns the JSON answer.</summary>
    public static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
