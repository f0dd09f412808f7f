using MailCluster.Outbound.TlsRpt;
using MimeKit;

namespace MailCluster.Outbound.Tests.TlsRpt;

/// <summary>The cluster's TLS-RPT tables over a real SQLite file: counts from several flushes add up, and a report
/// is claimed once per domain and period.</summary>
public sealed class TlsRptStoreTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mc-tlsrpt-" + Guid.NewGuid().ToString("N")[..8]);
    private TlsRptStore _store = null!;

    public ValueTask InitializeAsync()
    {
        _store = TlsRptStore.Sqlite(Path.Combine(_dir, TlsRptStore.SqliteFileName));
        Directory.CreateDirectory(_dir);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Counts_add_up_and_a_report_is_claimed_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var ok = new TlsRptKey(86400, "example.com", "sts", "policy", "success", "mx.example.com", "192.0.2.1");
        var bad = ok with { Result = "certificate-expired" };
        await _store.AddAsync([new(ok, 2), new(bad, 1)], ct);
        await _store.AddAsync([new(ok, 3)], ct);
        await _store.AddAsync([new(ok with { PeriodStart = 2 * 86400 }, 1)], ct);

        var counts = await _store.CountsAsync(86400, "example.com", ct);
        Assert.Equal(5, counts.Single(c => c.Result == "success").Count);
        Assert.Equal(1, counts.Single(c => c.Result == "certificate-expired").Count);

        Assert.Equal([(86400L, "example.com")], await _store.UnreportedAsync(2 * 86400, 86400, ct));
        Assert.True(await _store.TryClaimAsync(86400, "example.com", "node-a", 1, ct));
        Assert.False(await _store.TryClaimAsync(86400, "example.com", "node-b", 2, ct));
        Assert.Empty(await _store.UnreportedAsync(2 * 86400, 86400, ct));

        await _store.FinishAsync(86400, "example.com", null, 3, ct);
        Assert.True(await _store.TryClaimAsync(86400, "example.com", "node-b", 4, ct));
    }

    [Fact]
    public void The_mail_has_the_rfc_8460_shape()
    {
        using var http = new HttpClient();
        var delivery = new TlsRptDelivery(() => null, http, new TlsRptOptions(), "mta.sender.test");
        var start = DateTimeOffset.FromUnixTimeSeconds(86400);
        var message = delivery.BuildMessage("reports@example.com", new TlsRptDocument("example.com", "r1", start, start.AddDays(1), [1, 2, 3]));

        Assert.Equal("example.com", message.Headers["TLS-Report-Domain"]);
        Assert.Equal("mta.sender.test", message.Headers["TLS-Report-Submitter"]);
        Assert.Equal("Report Domain: example.com Submitter: mta.sender.test Report-ID: <r1>", message.Subject);
        var report = Assert.IsType<Multipart>(message.Body);
        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("tlsrpt", report.ContentType.Parameters["report-type"]);
        var attachment = Assert.IsType<MimePart>(report[1]);
        Assert.Equal("application/tlsrpt+gzip", attachment.ContentType.MimeType);
        Assert.Equal("mta.sender.test!example.com!86400!172800!r1.json.gz", attachment.FileName);
    }
}
