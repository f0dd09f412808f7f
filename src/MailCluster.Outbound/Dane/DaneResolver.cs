using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace MailCluster.Outbound.Dane;

/// <summary>
/// The DNS lookups DANE needs, with their DNSSEC status (RFC 7672 §2.1): asked with the DO bit of the configured
/// servers, which must be a validating resolver the operator trusts (a local unbound; <c>MailCluster:Dns:DnssecValidating</c>).
/// Secure when the answer carries the AD bit, insecure when it does not, indeterminate when no usable answer came
/// (SERVFAIL, which is how a validating resolver reports bogus data, a timeout, any other error RCODE).
/// Nothing is cached here: the resolver caches, and a stale secure answer must not outlive its TTL.
/// </summary>
public sealed class DaneResolver
{
    private readonly LookupClient _client;

    public DaneResolver(DnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Servers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions([.. options.Servers.Select(MxResolver.ParseServer)]);
        settings.UseCache = false;
        settings.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        settings.Retries = options.Retries;
        settings.ThrowDnsErrors = false;
        settings.UseTcpFallback = true;
        settings.RequestDnsSecRecords = true;
        _client = new LookupClient(settings);
    }

    /// <summary>The TLSA records of <c>_<paramref name="port"/>._tcp.<paramref name="host"/></c>.</summary>
    public async Task<TlsaLookup> TlsaAsync(string host, int port, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        string name = $"_{port}._tcp.{host.TrimEnd('.')}";
        var (response, error) = await QueryAsync(name, QueryType.TLSA, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return TlsaLookup.Failed(error ?? "no answer");
        }

        var security = SecurityOf(response);
        if (security == DnsSecurity.Indeterminate)
        {
            return TlsaLookup.Failed($"{name}: {response.Header.ResponseCode}");
        }

        IReadOnlyList<TlsaRecord> records =
        [
            .. response.Answers.OfType<DnsClient.Protocol.TlsaRecord>().Select(r =>
                new TlsaRecord((byte)r.CertificateUsage, (byte)r.Selector, (byte)r.MatchingType, [.. r.CertificateAssociationData])),
        ];
        return new TlsaLookup(security, records);
    }

    /// <summary>
    /// The DNSSEC status of the address (A) lookup of an MX host, and the name it expands to through CNAME records
    /// (RFC 7672 §2.2.2; the host itself when it is no alias). The validating resolver sets the AD bit only when every
    /// RRset of the answer is secure, so a secure answer means the whole CNAME chain is secure.
    /// </summary>
    public async Task<AddressLookup> AddressAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        string name = host.TrimEnd('.');
        var (response, _) = await QueryAsync(name, QueryType.A, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return new AddressLookup(DnsSecurity.Indeterminate, name);
        }

        var aliases = response.Answers.OfType<CNameRecord>()
            .Select(r => (From: r.DomainName.Value.TrimEnd('.'), To: r.CanonicalName.Value.TrimEnd('.')));
        return new AddressLookup(SecurityOf(response), TlsaBaseDomain.Expand(name, aliases));
    }

    /// <summary>The DNSSEC status of the <paramref name="type"/> records of <paramref name="name"/> (an MX or
    /// address lookup whose status RFC 7672 §2.2.1–2 makes count).</summary>
    public async Task<DnsSecurity> SecurityOfAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        var (response, _) = await QueryAsync(name.TrimEnd('.'), type, cancellationToken).ConfigureAwait(false);
        return response is null ? DnsSecurity.Indeterminate : SecurityOf(response);
    }

    /// <summary>NOERROR and NXDOMAIN are answers (a validated denial of existence is secure); anything else is not.</summary>
    private static DnsSecurity SecurityOf(IDnsQueryResponse response) => response.Header.ResponseCode switch
    {
        DnsHeaderResponseCode.NoError or DnsHeaderResponseCode.NotExistentDomain => response.Header.IsAuthenticData ? DnsSecurity.Secure : DnsSecurity.Insecure,
        _ => DnsSecurity.Indeterminate,
    };

    private async Task<(IDnsQueryResponse? Response, string? Error)> QueryAsync(string name, QueryType type, CancellationToken ct)
    {
        try
        {
            return (await _client.QueryAsync(name, type, QueryClass.IN, ct).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is DnsResponseException or SocketException)
        {
            ct.ThrowIfCancellationRequested();
            return (null, e.Message);
        }
    }
}
