using Xunit;
using System.Text;
using MailCluster.Api.Requests;
using MimeKit;

namespace MailCluster.Api.Tests;

public sealed class MessageComposerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    private static InjectRequest Read(string json) => InjectRequestReader.Read(Encoding.UTF8.GetBytes(json), 100, 1 << 20);

    private static string Compose(string json, int index = 0) =>
        Encoding.UTF8.GetString(new Messages.MessageComposer(Read(json)).Compose(index, "QID", "mc.test", Now));

    [Fact]
    public void RawContentIsRenderedPerRecipientWithCrlfAndMissingFieldsAdded()
    {
        const string json = """
            {"envelope_sender":"s@example.com","substitutions":{"greeting":"Hello"},
             "content":"From: s@example.com\nSubject: {{greeting}} {{name}}\n\n{{greeting}}, {{name}} <{{email}}>; code {{code}}\n",
             "recipients":[{"email":"a@example.net","name":"Ann","substitutions":{"code":"A1"}},
                           {"email":"b@example.net","substitutions":{"code":"B2","greeting":"Hi"}}]}
            """;
        Assert.Equal(
            "Message-ID: <QID@mc.test>\r\nDate: Sun, 06 Dec 2026 04:00:00 +0000\r\nFrom: s@example.com\r\nSubject: Hello Ann\r\n\r\nHello, Ann <a@example.net>; code A1\r\n",
            Compose(json, 0));
        Assert.EndsWith("Subject: Hi \r\n\r\nHi,  <b@example.net>; code B2\r\n", Compose(json, 1), StringComparison.Ordinal);
    }

    [Fact]
    public void RawContentKeepsItsOwnMessageIdAndDate()
    {
        var text = Compose("""{"envelope_sender":"s@example.com","content":"Message-ID: <x@y>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody","recipients":[{"email":"a@example.net"}]}""");
        Assert.Equal("Message-ID: <x@y>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n", text);
    }

    [Fact]
    public void BareCarriageReturnBecomesCrlf() =>
        Assert.DoesNotContain("\r\r", Compose("{\"envelope_sender\":\"s@example.com\",\"content\":\"Date: x\\rMessage-ID: <a@b>\\r\\rbody\",\"recipients\":[{\"email\":\"a@example.net\"}]}"), StringComparison.Ordinal);

    [Fact]
    public void UnknownVariableIsAProblemNamingItFieldAndRecipient()
    {
        var problem = Assert.Throws<RequestProblemException>(() => Compose("""{"envelope_sender":"s@example.com","content":{"text_body":"Dear {{first_name}}"},"recipients":[{"email":"a@example.net"},{"email":"b@example.net","substitutions":{"first_name":"B"}}]}""")).Problem;
        Assert.Equal(422, problem.Status);
        Assert.Equal("content.text_body", problem.Field);
        Assert.Contains("'first_name'", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("recipients[0]", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TemplateSyntaxErrorNamesTheField()
    {
        var problem = Assert.Throws<RequestProblemException>(() => Compose("""{"envelope_sender":"s@example.com","content":{"subject":"{% if %}","text_body":"t"},"recipients":[{"email":"a@example.net"}]}""")).Problem;
        Assert.Equal("content.subject", problem.Field);
    }

    [Fact]
    public void StaticContentIsNotRendered() =>
        Assert.Contains("{{ not_a_variable }}", Compose("""{"envelope_sender":"s@example.com","template_dialect":"Static","content":"Subject: x\n\n{{ not_a_variable }}","recipients":[{"email":"a@example.net"}]}"""), StringComparison.Ordinal);

    [Fact]
    public void HeaderValueCannotStartAnotherField()
    {
        var problem = Assert.Throws<RequestProblemException>(() => Compose("""{"envelope_sender":"s@example.com","content":{"text_body":"t","headers":{"X-Tag":"{{v}}"}},"recipients":[{"email":"a@example.net","substitutions":{"v":"a\r\nBcc: victim@example.org"}}]}""")).Problem;
        Assert.Equal("content.headers.X-Tag", problem.Field);
    }

    [Fact]
    public void BuiltContentIsAMimeMessageWithSubstitutionsAttachmentsAndHeaders()
    {
        var text = Compose("""
            {"envelope_sender":"bounce@example.com",
             "content":{"subject":"Order {{order}}","text_body":"Hi {{name}}, order {{order}}","html_body":"<p>{{name}}</p>",
               "headers":{"X-Order":"{{order}}"},"from":{"email":"shop@example.com","name":"Shop"},"reply_to":{"email":"help@example.com"},
               "attachments":[{"data":"aGVsbG8=","base64":true,"content_type":"text/plain","file_name":"a.txt"}]},
             "recipients":[{"email":"a@example.net","name":"Ann & Co","substitutions":{"order":"42"}}]}
            """);
        Assert.DoesNotContain("\n", text.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var message = MimeMessage.Load(stream);
        Assert.Equal("Order 42", message.Subject);
        Assert.Equal("QID@mc.test", message.MessageId);
        Assert.Equal("\"Shop\" <shop@example.com>", message.From.ToString());
        Assert.Equal("help@example.com", message.ReplyTo.Mailboxes.Single().Address);
        Assert.Equal("a@example.net", message.To.Mailboxes.Single().Address);
        Assert.Equal("Ann & Co", message.To.Mailboxes.Single().Name);
        Assert.Equal("42", message.Headers["X-Order"]);
        Assert.Equal("Hi Ann & Co, order 42", message.TextBody!.TrimEnd());
        Assert.Equal("<p>Ann &amp; Co</p>", message.HtmlBody!.TrimEnd());
        var attachment = Assert.IsType<TextPart>(Assert.Single(message.Attachments));
        Assert.Equal("a.txt", attachment.FileName);
        Assert.Equal("hello", attachment.Text);
    }

    [Fact]
    public void FromDefaultsToTheEnvelopeSender()
    {
        var text = Compose("""{"envelope_sender":"s@example.com","content":{"text_body":"t"},"recipients":[{"email":"a@example.net"}]}""");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        Assert.Equal("s@example.com", MimeMessage.Load(stream).From.Mailboxes.Single().Address);
    }
}
