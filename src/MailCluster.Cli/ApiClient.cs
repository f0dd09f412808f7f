using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MailCluster.Cli;

/// <summary>
/// The ops API over HTTP: every request carries the bearer token; an error answer (an RFC 7807 problem) becomes a
/// <see cref="CliException"/> with the exit code of its status and the problem's detail and field.
/// </summary>
public sealed class ApiClient(Endpoint endpoint) : IDisposable
{
    private readonly HttpClient http = Create(endpoint);

    public Task<JsonElement> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(path.TrimStart('/'), UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unavailable, $"{endpoint.Url} did not answer: {ex.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            JsonElement json = default;
            try
            {
                using var document = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
                json = document.RootElement.Clone();
            }
            catch (JsonException) when (!response.IsSuccessStatusCode)
            {
            }
            catch (JsonException ex)
            {
                throw new CliException(ExitCodes.Failure, $"{method} {path}: the answer is not JSON: {ex.Message}");
            }

            if (response.IsSuccessStatusCode)
            {
                return json;
            }

            int status = (int)response.StatusCode;
            var detail = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("detail", out var d) ? d.GetString() : text;
            var field = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("field", out var f) ? $" (field: {f.GetString()})" : "";
            throw new CliException(ExitCodes.ForStatus(status), $"{method} {path}: {status} {response.ReasonPhrase}: {detail}{field}");
        }
    }

    public void Dispose() => http.Dispose();

    private static HttpClient Create(Endpoint endpoint)
    {
        var baseUrl = endpoint.Url.AbsoluteUri.EndsWith('/') ? endpoint.Url : new Uri(endpoint.Url.AbsoluteUri + "/");
        var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.Token);
        client.DefaultRequestHeaders.UserAgent.ParseAdd("mailcluster-cli/1");
        return client;
    }
}
