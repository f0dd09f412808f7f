using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MailCluster.Outbound.TlsRpt;

/// <summary>One counter row of the cluster's table: sessions of one kind in one period for one policy domain.</summary>
/// <param name="Policy">The MTA-STS policy body ("" for no-policy-found).</param>
/// <param name="MxHost">"" when the failure is not about a host (a policy fetch).</param>
public sealed record TlsRptCount(string PolicyType, string Policy, string Result, string MxHost, string ReceivingIp, long Count);

/// <summary>The aggregate report of RFC 8460 §4 for one policy domain and period; pure.</summary>
public static class TlsRptReport
{
    public static JsonObject Build(string domain, DateTimeOffset start, DateTimeOffset end, string reportId,
        string organization, string contact, IEnumerable<TlsRptCount> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var policies = new JsonArray();
        foreach (var group in counts.GroupBy(c => (c.PolicyType, c.Policy)).OrderBy(g => g.Key.PolicyType, StringComparer.Ordinal))
        {
            var policy = new JsonObject
            {
                ["policy-type"] = group.Key.PolicyType,
                ["policy-domain"] = domain,
            };
            if (group.Key.Policy.Length > 0 && MtaSts.MtaStsPolicyParser.Parse(group.Key.Policy).Policy is { } sts)
            {
                policy["policy-string"] = new JsonArray([.. sts.PolicyStrings.Select(s => (JsonNode)s)]);
                policy["mx-host"] = new JsonArray([.. sts.Mx.Select(s => (JsonNode)s)]);
            }

            long ok = group.Where(c => c.Result == "success").Sum(c => c.Count);
            var failures = group.Where(c => c.Result != "success")
                .GroupBy(c => (c.Result, c.MxHost, c.ReceivingIp))
                .Select(f =>
                {
                    var detail = new JsonObject { ["result-type"] = f.Key.Result };
                    if (f.Key.MxHost.Length > 0)
                    {
                        detail["receiving-mx-hostname"] = f.Key.MxHost;
                    }

                    if (f.Key.ReceivingIp.Length > 0)
                    {
                        detail["receiving-ip"] = f.Key.ReceivingIp;
                    }

                    detail["failed-session-count"] = f.Sum(c => c.Count);
                    return (JsonNode)detail;
                }).ToList();
            var entry = new JsonObject
            {
                ["policy"] = policy,
                ["summary"] = new JsonObject
                {
                    ["total-successful-session-count"] = ok,
                    ["total-failure-session-count"] = group.Where(c => c.Result != "success").Sum(c => c.Count),
                },
            };
            if (failures.Count > 0)
            {
                entry["failure-details"] = new JsonArray([.. failures]);
            }

            policies.Add(entry);
        }

        return new JsonObject
        {
            ["organization-name"] = organization,
            ["date-range"] = new JsonObject
            {
                ["start-datetime"] = Iso(start),
                ["end-datetime"] = Iso(end.AddSeconds(-1)),
            },
            ["contact-info"] = contact,
            ["report-id"] = reportId,
            ["policies"] = policies,
        };
    }

    /// <summary>The report as sent (RFC 8460 §5.1: gzip of the JSON, media type application/tlsrpt+gzip).</summary>
    public static byte[] Gzip(JsonObject report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, report);
        }

        return buffer.ToArray();
    }

    /// <summary>RFC 8460 §5.3: <c>submitter!policy-domain!begin-timestamp!end-timestamp!unique-id.json.gz</c>.</summary>
    public static string FileName(string submitter, string domain, DateTimeOffset start, DateTimeOffset end, string uniqueId) =>
        string.Create(CultureInfo.InvariantCulture, $"{submitter}!{domain}!{start.ToUnixTimeSeconds()}!{end.ToUnixTimeSeconds()}!{uniqueId}.json.gz");

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
