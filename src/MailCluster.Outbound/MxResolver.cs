using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace MailCluster.Outbound;

/// <summary>
/// Resolves a recipient domain to the ordered hosts to deliver to (RFC 5321 §5.1) with DnsClient.
/// Thread-safe; answers (including negative ones) are cached for their TTL by DnsClient's response cache
/// (<c>UseCache</c>, keyed by question, expiring at the record TTL). Never throws except on cancellation.
/// </summary>
public sealed class MxResolver
{
    private readonly LookupClient _client;

    public MxResolver(DnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        var settings = options.Servers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions([.. options.Servers.Select(ParseServer)]);
        settings.UseCache = true;
        settings.Timeout = timeout;
        settings.Retries = options.Retries;
        settings.ThrowDnsErrors = false;
        settings.UseTcpFallback = true;
        _client = new LookupClient(settings);
    }

    /// <summary>Parses <c>host:port</c>, <c>[v6]:port</c> or <c>host</c> (port 53) into a name server.</summary>
    /// <exception cref="FormatException">The value is neither an address nor a resolvable host name.</exception>
    public static NameServer ParseServer(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        // IPEndPoint first: IPAddress.TryParse accepts "[::1]:5300" and silently drops the port.
        if (IPEndPoint.TryParse(value, out var endpoint))
        {
            return new NameServer(endpoint.Address, endpoint.Port == 0 ? 53 : endpoint.Port);
        }

        int colon = value.LastIndexOf(':');
        string host = colon < 0 ? value : value[..colon];
        int port = colon < 0 ? 53 : int.Parse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
        IPAddress address = Dns.GetHostAddresses(host).FirstOrDefault()
            ?? throw new FormatException($"DNS server '{value}' does not resolve to an address");
        return new NameServer(address, port);
    }

    /// <summary>
    /// MX records by preference, randomised among equals; no MX → the domain itself (implicit MX, §5.1);
    /// null MX → permanent 556 5.1.10 (RFC 7505); NXDOMAIN → permanent 5.1.2; SERVFAIL or timeout → transient 4.4.3.
    /// MX hosts without addresses are skipped: permanent 5.4.4 if none has one, transient 4.4.3 if a lookup failed.
    /// </summary>
    public async Task<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        cancellationToken.ThrowIfCancellationRequested();
        string name = domain.TrimEnd('.');
        var (mx, mxError) = await QueryAsync(name, QueryType.MX, cancellationToken).ConfigureAwait(false);
        if (mx is null)
        {
            return MxResolution.Transient("4.4.3", $"DNS lookup of MX for {name} failed: {mxError}");
        }

        if (mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return MxResolution.Permanent(0, "5.1.2", $"domain {name} does not exist (NXDOMAIN)");
        }

        if (mx.HasError)
        {
            return MxResolution.Transient("4.4.3", $"DNS lookup of MX for {name} failed: {mx.ErrorMessage}");
        }

        List<(string Exchange, int Preference)> records =
            [.. mx.Answers.MxRecords().Select(r => (r.Exchange.Value.TrimEnd('.'), (int)r.Preference))];
        if (MxOrdering.IsNullMx(records))
        {
            return MxResolution.Permanent(556, "5.1.10", $"domain {name} does not accept mail (null MX, RFC 7505)");
        }

        records.RemoveAll(r => MxOrdering.IsRoot(r.Exchange));
        if (records.Count == 0)
        {
            return await ImplicitMxAsync(name, cancellationToken).ConfigureAwait(false);
        }

        var ordered = MxOrdering.Order(records.Select(r => new MxTarget(r.Exchange, r.Preference, [])), Random.Shared);
        var lookups = await Task.WhenAll(ordered.Select(t => AddressesAsync(t.Host, cancellationToken))).ConfigureAwait(false);
        var targets = new List<MxTarget>();
        string? failure = null;
        for (int i = 0; i < ordered.Count; i++)
        {
            if (lookups[i].Addresses.Count > 0)
            {
                targets.Add(ordered[i] with { Addresses = lookups[i].Addresses });
            }
            else if (lookups[i].TransientError is { } error)
            {
                failure = $"DNS lookup of {ordered[i].Host} failed: {error}";
            }
        }

        if (targets.Count > 0)
        {
            return MxResolution.Ok(targets);
        }

        return failure is not null
            ? MxResolution.Transient("4.4.3", failure)
            : MxResolution.Permanent(0, "5.4.4", $"no MX host of {name} has an address ({string.Join(", ", ordered.Select(t => t.Host))})");
    }

    private async Task<MxResolution> ImplicitMxAsync(string name, CancellationToken cancellationToken)
    {
        var lookup = await AddressesAsync(name, cancellationToken).ConfigureAwait(false);
        if (lookup.Addresses.Count > 0)
        {
            return MxResolution.Ok([new MxTarget(name, 0, lookup.Addresses)]);
        }

        return lookup.TransientError is { } error
            ? MxResolution.Transient("4.4.3", $"DNS lookup of {name} failed: {error}")
            : MxResolution.Permanent(0, "5.1.2", $"domain {name} has no MX and no A/AAAA record");
    }

    /// <summary>A then AAAA: IPv4 first, since a host without an IPv6 route would spend a connect timeout per AAAA.</summary>
    private async Task<(IReadOnlyList<IPAddress> Addresses, string? TransientError)> AddressesAsync(string host, CancellationToken ct)
    {
        var a = QueryAsync(host, QueryType.A, ct);
        var aaaa = QueryAsync(host, QueryType.AAAA, ct);
        var results = await Task.WhenAll(a, aaaa).ConfigureAwait(false);
        var addresses = new List<IPAddress>();
        string? error = null;
        foreach (var (response, exception) in results)
        {
            if (response is null || (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain))
            {
                error ??= exception ?? response?.ErrorMessage;
                continue;
            }

            addresses.AddRange(response.Answers.OfType<AddressRecord>().Select(r => r.Address)
                .Where(ip => ip.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6));
        }

        return (addresses, addresses.Count > 0 ? null : error);
    }

    /// <summary>Addresses of a relay host (smarthost/LMTP route): an address literal as is, else A and AAAA.</summary>
    public async Task<MxResolution> ResolveHostAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        if (IPAddress.TryParse(host, out var literal))
        {
            return MxResolution.Ok([new MxTarget(host, 0, [literal])]);
        }

        var lookup = await AddressesAsync(host.TrimEnd('.'), cancellationToken).ConfigureAwait(false);
        if (lookup.Addresses.Count > 0)
        {
            return MxResolution.Ok([new MxTarget(host, 0, lookup.Addresses)]);
        }

        return lookup.TransientError is { } error
            ? MxResolution.Transient("4.4.3", $"DNS lookup of relay host {host} failed: {error}")
            : MxResolution.Transient("4.4.4", $"relay host {host} has no A/AAAA record");
    }

    /// <summary>At most this many CNAME hops are followed (a loop or a long chain is a DNS failure).</summary>
    private const int MaxCnameHops = 8;

    /// <summary>
    /// One query, following CNAMEs (RFC 1034 §3.6.2; RFC 5321 §5.1 allows a CNAME at the domain): when the answer
    /// holds a CNAME for the name but no record of the asked type, the canonical name is queried in turn.
    /// </summary>
    /// <returns>The response (possibly with an error RCODE), or null and the reason when no answer came.</returns>
    private async Task<(IDnsQueryResponse? Response, string? Error)> QueryAsync(string name, QueryType type, CancellationToken ct)
    {
        string current = name;
        for (int hop = 0; ; hop++)
        {
            var (response, error) = await QueryOnceAsync(current, type, ct).ConfigureAwait(false);
            if (response is null || response.HasError || response.Answers.Any(r => r.RecordType == (ResourceRecordType)type))
            {
                return (response, error);
            }

            var cname = response.Answers.CnameRecords().LastOrDefault();
            if (cname is null)
            {
                return (response, error);
            }

            if (hop >= MaxCnameHops)
            {
                return (null, $"more than {MaxCnameHops} CNAME hops from {name}");
            }

            current = cname.CanonicalName.Value.TrimEnd('.');
        }
    }

    private async Task<(IDnsQueryResponse? Response, string? Error)> QueryOnceAsync(string name, QueryType type, CancellationToken ct)
    {
        try
        {
            return (await _client.QueryAsync(name, type, QueryClass.IN, ct).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is DnsResponseException or SocketException)
        {
            // DnsClient reports a cancelled query as a DnsResponseException; cancellation must still surface.
            ct.ThrowIfCancellationRequested();
            return (null, e.Message);
        }
    }
}
