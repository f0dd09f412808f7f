using DnsClient;
using DnsClient.Protocol;

namespace MailCluster.Outbound.MtaSts;

/// <summary>The answer to a TXT query: the records (each record's strings concatenated, RFC 7208 §3.3 style), or
/// null and the reason when the lookup itself failed (SERVFAIL, timeout). NXDOMAIN and NODATA are an empty list.</summary>
public sealed record TxtAnswer(IReadOnlyList<string>? Records, string? Error);

/// <summary>
/// TXT lookups through the configured DNS servers (<c>MailCluster:Dns</c>, the same servers and settings as
/// <see cref="MxResolver"/>; never the system resolver when servers are configured). Answers are cached for their
/// TTL by DnsClient. Never throws except on cancellation.
/// </summary>
public sealed class TxtLookup
{
    private readonly LookupClient _client;

    public TxtLookup(DnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Servers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions([.. options.Servers.Select(MxResolver.ParseServer)]);
        settings.UseCache = true;
        settings.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        settings.Retries = options.Retries;
        settings.ThrowDnsErrors = false;
        settings.UseTcpFallback = true;
        _client = new LookupClient(settings);
    }

    public async Task<TxtAnswer> QueryAsync(string name, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DnsResponseException or System.Net.Sockets.SocketException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new TxtAnswer(null, e.Message);
        }

        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return new TxtAnswer([], null);
        }

        return response.HasError
            ? new TxtAnswer(null, response.ErrorMessage)
            : new TxtAnswer([.. response.Answers.TxtRecords().Select(r => string.Concat(r.Text))], null);
    }
}
