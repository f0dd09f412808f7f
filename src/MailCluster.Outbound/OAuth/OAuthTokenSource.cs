using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailCluster.Outbound.OAuth;

/// <summary>The token endpoint did not give a token (unreachable, an error answer, a malformed body): delivery is
/// deferred as a transient failure and retried.</summary>
public sealed class OAuthTokenException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An access token handed to one connection; <see cref="Reject"/> when the server refused it.</summary>
public sealed class OAuthAccessToken(string value, OAuthTokenSource source)
{
    public string Value { get; } = value;

    /// <summary>The smarthost answered 535 to this token (revoked early): the next connection fetches a new one.</summary>
    public void Reject() => source.Invalidate(Value);
}

/// <summary>
/// One route's OAuth2 access token, obtained from its token endpoint, cached and shared by every connection of the
/// route, and replaced before it expires: at <c>expires_in</c> minus <see cref="OAuthClientOptions.RefreshBeforeExpirySeconds"/>,
/// or at half its lifetime if that is sooner. One request at a time: connections opening together wait for the same
/// answer. A refresh token returned by the endpoint (rotation) replaces the file's from then on.
/// </summary>
public sealed class OAuthTokenSource(OAuthClientOptions options, HttpClient http, TimeProvider clock)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();
    private volatile Cached? _current;
    private Task<Cached>? _inflight;
    private string? _rotatedRefreshToken;
    private int _requests;

    /// <summary>Token requests made so far (for metrics and tests).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public async Task<OAuthAccessToken> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_current) is { } cached)
        {
            return new OAuthAccessToken(cached, this);
        }

        // One request in flight, shared by every caller (each may stop waiting on its own cancellation); a completed
        // request, failed or not, is never reused: the next caller after a failure asks again.
        Task<Cached> request;
        lock (_lock)
        {
            if (_inflight is null || _inflight.IsCompleted)
            {
                _inflight = FetchAndKeepAsync();
            }

            request = _inflight;
        }

        var fetched = await request.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new OAuthAccessToken(fetched.Token, this);
    }

    private async Task<Cached> FetchAndKeepAsync()
    {
        var fetched = await FetchAsync(CancellationToken.None).ConfigureAwait(false);
        _current = fetched;
        return fetched;
    }

    internal void Invalidate(string token)
    {
        if (_current is { } c && c.Token == token)
        {
            _current = null;
        }
    }

    private string? Fresh(Cached? cached) => cached is not null && clock.GetUtcNow() < cached.RefreshAt ? cached.Token : null;

    private async Task<Cached> FetchAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        var form = new List<KeyValuePair<string, string>> { new("client_id", options.ClientId!) };
        var refreshToken = _rotatedRefreshToken ?? ReadFile(options.RefreshTokenFile, "RefreshTokenFile");
        form.Add(new("grant_type", refreshToken is null ? "client_credentials" : "refresh_token"));
        if (refreshToken is not null)
        {
            form.Add(new("refresh_token", refreshToken));
        }

        if (ReadFile(options.ClientSecretFile, "ClientSecretFile") is { } secret)
        {
            form.Add(new("client_secret", secret));
        }

        if (!string.IsNullOrWhiteSpace(options.Scope))
        {
            form.Add(new("scope", options.Scope));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        TokenResponse? body;
        try
        {
            using var content = new FormUrlEncodedContent(form);
            using var response = await http.PostAsync(new Uri(options.TokenEndpoint!), content, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                throw new OAuthTokenException($"token endpoint {options.TokenEndpoint} answered {(int)response.StatusCode}: {Shorten(text)}");
            }

            body = await response.Content.ReadFromJsonAsync<TokenResponse>(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or NotSupportedException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new OAuthTokenException($"token endpoint {options.TokenEndpoint}: {e.Message}", e);
        }

        if (string.IsNullOrEmpty(body?.AccessToken))
        {
            throw new OAuthTokenException($"token endpoint {options.TokenEndpoint} answered without an access_token");
        }

        if (!string.IsNullOrEmpty(body.RefreshToken))
        {
            _rotatedRefreshToken = body.RefreshToken;
        }

        var lifetime = TimeSpan.FromSeconds(body.ExpiresIn is > 0 ? body.ExpiresIn.Value : 3600);
        var early = TimeSpan.FromSeconds(options.RefreshBeforeExpirySeconds);
        var keepFor = lifetime - early < lifetime / 2 ? lifetime / 2 : lifetime - early;
        return new Cached(body.AccessToken, clock.GetUtcNow() + keepFor);
    }

    private static string? ReadFile(string? path, string key)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OAuthTokenException($"{key} '{path}' cannot be read: {e.Message}", e);
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    private sealed record Cached(string Token, DateTimeOffset RefreshAt);

    private sealed class TokenResponse
    {
        [JsonPropertyName("access_token")]
        public string? AccessToken { get; set; }

        [JsonPropertyName("expires_in")]
        public int? ExpiresIn { get; set; }

        [JsonPropertyName("refresh_token")]
        public string? RefreshToken { get; set; }
    }
}
