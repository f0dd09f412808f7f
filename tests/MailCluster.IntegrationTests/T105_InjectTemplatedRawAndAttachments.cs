using System.Net;
using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T105: the HTTP injection API end to end with an API key (scope http): a templated request for three recipients
/// reaches the sink as three messages with each recipient's substitutions (bytes checked); raw content arrives byte for
/// byte behind the trace field; a built message with an attachment arrives intact; the OpenAPI document is served and
/// no ops route answers on the injection port.
/// </summary>
[ParallelScenario]
public sealed class T105_InjectTemplatedRawAndAttachments
{
    [Fact]
    public async Task Templated_raw_and_attachment_requests_are_delivered_as_built()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(InjectApi.Environment());
        await scenario.StartNodeAsync(config);
        var (keyId, secret) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain]);

        var templated = await InjectApi.PostAsync(config, secret, """
            {"envelope_sender":"app@senders.test","substitutions":{"shop":"T105 Shop"},"meta":{"campaign":"spring","batch":7},
             "content":{"subject":"Order {{order}} for {{name}}!","text_body":"Dear {{name}} <{{email}}>, order {{order}} from {{shop}}.",
               "from":{"email":"app@senders.test","name":"App"},"headers":{"X-Order":"{{order}}"}},
             "recipients":[{"email":"ann@relay.test","name":"Ann","substitutions":{"order":"1001"}},
                           {"email":"bob@relay.test","name":"Bob","substitutions":{"order":"1002"}},
                           {"email":"cy@relay.test","substitutions":{"order":"1003"}}]}
            """);
        Assert.True(templated.Status == HttpStatusCode.OK, templated.Json.ToString());
        Assert.Equal(3, templated.Json.GetProperty("success_count").GetInt32());
        Assert.Equal(0, templated.Json.GetProperty("fail_count").GetInt32());
        Assert.Equal(0, templated.Json.GetProperty("failed_recipients").GetArrayLength());
        var ids = templated.Json.GetProperty("queue_ids").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(3, ids.Distinct().Count());

        foreach (var (to, name, order, index) in new[] { ("ann@relay.test", "Ann", "1001", 0), ("bob@relay.test", "Bob", "1002", 1), ("cy@relay.test", "", "1003", 2) })
        {
            var received = await scenario.Sink.WaitForRecipientAsync(to, TimeSpan.FromSeconds(60));
            Assert.Equal("app@senders.test", received.MailFrom);
            Assert.Equal([to], received.Recipients);
            var text = Encoding.UTF8.GetString(received.Data);
            Assert.StartsWith("Received: from api ([", text, StringComparison.Ordinal);
            Assert.Contains($"with HTTP\r\n", text, StringComparison.Ordinal);
            Assert.Contains($"\tid {ids[index]}\r\n\tfor <{to}>; ", text, StringComparison.Ordinal);
            using var stream = new MemoryStream(received.Data);
            var message = await MimeMessage.LoadAsync(stream);
            Assert.Equal($"Order {order} for {name}!", message.Subject);
            Assert.Equal(order, message.Headers["X-Order"]);
            Assert.Equal($"{ids[index]}@mc.test", message.MessageId);
            Assert.Equal($"Dear {name} <{to}>, order {order} from T105 Shop.", message.TextBody!.TrimEnd());
        }

        // The request's meta and the key travel to the delivery events (issue 16), with the composed Message-ID.
        using (var events = QueueApiClient.For(config))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            System.Text.Json.JsonElement? reception = null;
            while (reception is null && DateTime.UtcNow < deadline)
            {
                var answer = await QueueApiClient.GetJsonAsync(events, $"/api/v1/messages/{ids[0]}/events", HttpStatusCode.OK);
                reception = answer.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "Reception")
                    .Select(e => (System.Text.Json.JsonElement?)e).FirstOrDefault();
                if (reception is null)
                {
                    await Task.Delay(250);
                }
            }

            Assert.True(reception is not null, "no Reception event for the injected message");
            Assert.Equal("spring", reception.Value.GetProperty("meta").GetProperty("campaign").GetString());
            Assert.Equal("7", reception.Value.GetProperty("meta").GetProperty("batch").GetString());
            Assert.Equal(keyId, reception.Value.GetProperty("credential").GetString());
            Assert.Equal($"<{ids[0]}@mc.test>", reception.Value.GetProperty("message_id").GetString());
        }

        const string raw = "From: app@senders.test\r\nTo: dee@relay.test\r\nSubject: raw\r\nMessage-ID: <t105-raw@senders.test>\r\nDate: Sun, 06 Dec 2026 04:00:00 +0000\r\n\r\nRaw body, {{ 'liquid' | upcase }}.\r\n";
        var rawAnswer = await InjectApi.PostAsync(config, secret, System.Text.Json.JsonSerializer.Serialize(new
        {
            envelope_sender = "app@senders.test",
            content = raw,
            recipients = new[] { new { email = "dee@relay.test" } },
        }));
        Assert.True(rawAnswer.Status == HttpStatusCode.OK, rawAnswer.Json.ToString());
        var rawReceived = await scenario.Sink.WaitForRecipientAsync("dee@relay.test", TimeSpan.FromSeconds(60));
        var rawText = Encoding.UTF8.GetString(rawReceived.Data);
        var afterTrace = rawText[(rawText.IndexOf("\r\nFrom: ", StringComparison.Ordinal) + 2)..];
        Assert.Equal(raw.Replace("{{ 'liquid' | upcase }}", "LIQUID", StringComparison.Ordinal), afterTrace);
        Assert.StartsWith("Received: ", rawText, StringComparison.Ordinal);

        var pdf = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();
        var attached = await InjectApi.PostAsync(config, secret, System.Text.Json.JsonSerializer.Serialize(new
        {
            envelope_sender = "app@senders.test",
            content = new
            {
                subject = "attachment",
                text_body = "see attached",
                html_body = "<p>see <img src=\"cid:logo\"></p>",
                attachments = new object[]
                {
                    new { data = Convert.ToBase64String(pdf), base64 = true, content_type = "application/pdf", file_name = "t105.pdf" },
                    new { data = "PNGDATA", content_type = "image/png", content_id = "logo" },
                },
            },
            recipients = new[] { new { email = "eve@relay.test" } },
        }));
        Assert.True(attached.Status == HttpStatusCode.OK, attached.Json.ToString());
        var withAttachment = await scenario.Sink.WaitForRecipientAsync("eve@relay.test", TimeSpan.FromSeconds(60));
        using (var stream = new MemoryStream(withAttachment.Data))
        {
            var message = await MimeMessage.LoadAsync(stream);
            var part = Assert.IsType<MimePart>(message.Attachments.Single(a => a is MimePart { FileName: "t105.pdf" }));
            using var decoded = new MemoryStream();
            await part.Content!.DecodeToAsync(decoded);
            Assert.Equal(pdf, decoded.ToArray());
            Assert.Contains(message.BodyParts, p => p.ContentId == "logo");
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{InjectApi.Port(config)}") };
        var openApi = await http.GetStringAsync(new Uri("/api/inject/v1/openapi.json", UriKind.Relative));
        Assert.Contains("\"/api/inject/v1\"", openApi, StringComparison.Ordinal);
        using var ops = await http.GetAsync(new Uri("/api/v1/queues", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, ops.StatusCode);
    }
}
