using System.Net;
using System.Security.Authentication;

namespace MailCluster.Outbound.MtaSts;

/// <summary>The outcome of one policy fetch: the body, or the reason there is none (TLS-RPT "sts-policy-fetch-error"
/// or, for a certificate the policy host cannot prove, "sts-webpki-invalid").</summary>
public sealed record MtaStsFetch(string? Body, string? Error, bool WebPkiInvalid = false);

/// <summary>
/// Fetches <c>https://mta-sts.&lt;domain&gt;/.well-known/mta-sts.txt</c> (RFC 8461 §3.3): the host name resolved
/// through the configured DNS servers (never the system resolver), its addresses filtered as MX addresses are
/// (no private ones unless <c>AllowPrivateDestinations</c>), the certificate validated against the system roots and
/// <c>CaCertificatesPath</c>, no redirects, only 200 with <c>text/plain</c>, at most 64 KiB, within the timeout.
/// </summary>
public sealed class MtaStsFetcher : IDisposable
{
    /// <summary>RFC 8461 §3.3 suggests a 64 KiB limit on the policy body.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly int _port;

    public MtaStsFetcher(MxResolver resolver, OutboundOptions options, CertificateTrust trust)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);
        _port = options.MtaStsHttpsPort;
        var handler = ResolvedHttpHandler.Create(resolver, options, trust);
        _http = new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(options.MtaStsFetchTimeoutSeconds),
            MaxResponseContentBufferSize = MaxBodyBytes,
        };
    }

    public static Uri PolicyUri(string domain, int port) =>
        new(port == 443 ? $"https://mta-sts.{domain}/.well-known/mta-sts.txt" : $"https://mta-sts.{domain}:{port}/.well-known/mta-sts.txt");

    public async Task<MtaStsFetch> FetchAsync(string domain, CancellationToken cancellationToken)
    {
        var uri = PolicyUri(domain, _port);
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                // RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed"; anything but 200 is no policy.
                return new MtaStsFetch(null, $"{uri}: HTTP {(int)response.StatusCode}");
            }

            string? mediaType = response.Content.Headers.ContentType?.MediaType;
            if (!string.Equals(mediaType, "text/plain", StringComparison.OrdinalIgnoreCase))
            {
                return new MtaStsFetch(null, $"{uri}: content type {mediaType ?? "(none)"}, not text/plain");
            }

            if (response.Content.Headers.ContentLength > MaxBodyBytes)
            {
                return new MtaStsFetch(null, $"{uri}: body larger than {MaxBodyBytes} bytes");
            }

            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return new MtaStsFetch(body, null);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException || e.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            return new MtaStsFetch(null, $"{uri}: certificate not valid: {e.Message}", WebPkiInvalid: true);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new MtaStsFetch(null, $"{uri}: {e.Message}");
        }
    }

    public void Dispose() => _http.Dispose();
}
