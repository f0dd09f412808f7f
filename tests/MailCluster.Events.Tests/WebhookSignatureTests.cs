using System.Security.Cryptography;
using System.Text;
using MailCluster.Events.Webhooks;
using MailCluster.Queue.Events;
using Xunit;

namespace MailCluster.Events.Tests;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"offset\":1,\"type\":\"Delivery\"}");

    [Fact]
    public void The_header_is_t_and_the_hex_hmac_of_t_dot_body()
    {
        var header = WebhookSignature.Sign("s3cret", 1_700_000_000, Body);

        // Computed independently: HMAC-SHA256(key, "1700000000." + body).
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8, Encoding.UTF8.GetBytes("1700000000." + Encoding.UTF8.GetString(Body))));
        Assert.Equal($"t=1700000000,v1={expected}", header);
    }

    [Fact]
    public void Verify_accepts_the_signature_and_refuses_any_change_or_an_old_time()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var header = WebhookSignature.Sign("s3cret", now.ToUnixTimeSeconds(), Body);
        var tolerance = TimeSpan.FromMinutes(5);

        Assert.True(WebhookSignature.Verify("s3cret", header, Body, now, tolerance));
        Assert.False(WebhookSignature.Verify("other", header, Body, now, tolerance));
        Assert.False(WebhookSignature.Verify("s3cret", header, [.. Body, (byte)' '], now, tolerance));
        Assert.False(WebhookSignature.Verify("s3cret", header, Body, now.AddMinutes(6), tolerance));
        Assert.False(WebhookSignature.Verify("s3cret", header.Replace("t=1700000000", "t=1700000001", StringComparison.Ordinal), Body, now, tolerance));
        Assert.False(WebhookSignature.Verify("s3cret", null, Body, now, tolerance));
    }

    [Fact]
    public void Generated_secrets_are_long_and_distinct()
    {
        var a = WebhookSignature.NewSecret();
        Assert.StartsWith("whsec_", a, StringComparison.Ordinal);
        Assert.True(a.Length > 40);
        Assert.NotEqual(a, WebhookSignature.NewSecret());
    }

    [Fact]
    public void Backoff_doubles_from_one_second_to_the_cap()
    {
        var max = TimeSpan.FromSeconds(600);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600], Enumerable.Range(0, 12).Select(n => WebhookDispatcher.Backoff(n, max, 0.5).TotalSeconds));
        Assert.Equal(0.8, WebhookDispatcher.Backoff(0, max, 0).TotalSeconds, 3);
        Assert.Equal(1.2, WebhookDispatcher.Backoff(0, max, 1).TotalSeconds, 3);
    }

    [Fact]
    public void Meta_headers_are_read_lower_cased_without_the_prefix_and_unfolded()
    {
        var text = "From: a@example.org\r\nX-MC-Meta-Campaign: spring\r\nx-mc-meta-User-ID:  42 \r\nX-MC-Meta-Note: one\r\n two\r\nSubject: hi\r\n\r\nX-MC-Meta-Body: no\r\n"u8;
        var meta = MetaHeaders.Read(text);
        Assert.Equal(3, meta.Count);
        Assert.Equal(("spring", "42", "one two"), (meta["campaign"], meta["user-id"], meta["note"]));
    }
}
