using Xunit;
using System.Text;
using MailCluster.Api.Requests;

namespace MailCluster.Api.Tests;

public sealed class InjectRequestReaderTests
{
    private static InjectRequest Read(string json, int maxRecipients = 10, long maxAttachment = 1024) =>
        InjectRequestReader.Read(Encoding.UTF8.GetBytes(json), maxRecipients, maxAttachment);

    private static RequestProblem Problem(string json, int maxRecipients = 10, long maxAttachment = 1024) =>
        Assert.Throws<RequestProblemException>(() => Read(json, maxRecipients, maxAttachment)).Problem;

    [Fact]
    public void KumoMtaExampleReads()
    {
        var request = Read("""{"envelope_sender":"noreply@example.com","content":"Subject: hello\n\nHello there","recipients":[{"email":"recipient@example.com"}]}""");
        Assert.Equal("noreply@example.com", request.EnvelopeSender);
        Assert.Equal("Subject: hello\n\nHello there", Assert.IsType<RawContent>(request.Content).Text);
        Assert.Equal("recipient@example.com", Assert.Single(request.Recipients).Email);
        Assert.True(request.Templated);
    }

    [Fact]
    public void BuiltContentWithAllParts()
    {
        var request = Read("""
            {"envelope_sender":"bounce@example.com","meta":{"campaign":"c1"},
             "content":{"subject":"Hi {{name}}","text_body":"t","html_body":"<p>h</p>","headers":{"X-Campaign":"c1"},
               "from":{"email":"news@example.com","name":"News"},"reply_to":{"email":"help@example.com"},
               "attachments":[{"data":"aGVsbG8=","base64":true,"content_type":"text/plain","file_name":"a.txt"},{"data":"plain","content_id":"logo"}]},
             "substitutions":{"n":1,"list":[1,2],"flag":true},
             "recipients":[{"email":"a@example.net","name":"A","substitutions":{"x":"y"}}]}
            """);
        var content = Assert.IsType<BuiltContent>(request.Content);
        Assert.Equal("Hi {{name}}", content.Subject);
        Assert.Equal(new KeyValuePair<string, string>("X-Campaign", "c1"), Assert.Single(content.Headers));
        Assert.Equal(new InjectAddress("news@example.com", "News"), content.From);
        Assert.Equal("hello", Encoding.UTF8.GetString(content.Attachments[0].Data));
        Assert.Equal("plain", Encoding.UTF8.GetString(content.Attachments[1].Data));
        Assert.Equal("application/octet-stream", content.Attachments[1].ContentType);
        Assert.Equal(1m, request.Substitutions["n"]);
        Assert.Equal("y", request.Recipients[0].Substitutions["x"]);
        Assert.Equal("c1", request.Meta!.Value.GetProperty("campaign").GetString());
    }

    [Fact]
    public void StaticDialectTurnsTemplatesOff() =>
        Assert.False(Read("""{"envelope_sender":"","template_dialect":"Static","content":"x","recipients":[{"email":"a@example.net"}]}""").Templated);

    [Theory]
    [InlineData("{", 400, "body")]
    [InlineData("[]", 422, "body")]
    [InlineData("""{"content":"x","recipients":[{"email":"a@example.net"}]}""", 422, "envelope_sender")]
    [InlineData("""{"envelope_sender":5,"content":"x","recipients":[{"email":"a@example.net"}]}""", 422, "envelope_sender")]
    [InlineData("""{"envelope_sender":"not an address","content":"x","recipients":[{"email":"a@example.net"}]}""", 422, "envelope_sender")]
    [InlineData("""{"envelope_sender":"s@example.com","recipients":[{"email":"a@example.net"}]}""", 422, "content")]
    [InlineData("""{"envelope_sender":"s@example.com","content":7,"recipients":[{"email":"a@example.net"}]}""", 422, "content")]
    [InlineData("""{"envelope_sender":"s@example.com","content":{"subject":"s"},"recipients":[{"email":"a@example.net"}]}""", 422, "content.text_body")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x"}""", 422, "recipients")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x","recipients":[]}""", 422, "recipients")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x","recipients":{"email":"a@example.net"}}""", 422, "recipients")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x","recipients":[{"email":"a@example.net"},{"name":"B"}]}""", 422, "recipients[1].email")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x","recipients":[{"email":"a@@example.net"}]}""", 422, "recipients[0].email")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x","recipients":[{"email":"<a@example.net>"}]}""", 422, "recipients[0].email")]
    [InlineData("""{"envelope_sender":"s@example.com","content":"x","recipients":[{"email":"a@example.net","substitutions":[]}]}""", 422, "recipients[0].substitutions")]
    [InlineData("""{"envelope_sender":"s@example.com","content":{"text_body":"t","headers":{"Bad Name":"v"}},"recipients":[{"email":"a@example.net"}]}""", 422, "content.headers.Bad Name")]
    [InlineData("""{"envelope_sender":"s@example.com","content":{"text_body":"t","from":{"name":"x"}},"recipients":[{"email":"a@example.net"}]}""", 422, "content.from.email")]
    [InlineData("""{"envelope_sender":"s@example.com","content":{"text_body":"t","attachments":[{"data":"!!","base64":true}]},"recipients":[{"email":"a@example.net"}]}""", 422, "content.attachments[0].data")]
    [InlineData("""{"envelope_sender":"s@example.com","content":{"text_body":"t","attachments":[{"data":"x","content_type":"no type"}]},"recipients":[{"email":"a@example.net"}]}""", 422, "content.attachments[0].content_type")]
    [InlineData("""{"envelope_sender":"s@example.com","template_dialect":"Jinja","content":"x","recipients":[{"email":"a@example.net"}]}""", 422, "template_dialect")]
    public void BadInputNamesTheField(string json, int status, string field)
    {
        var problem = Problem(json);
        Assert.Equal(status, problem.Status);
        Assert.Equal(field, problem.Field);
    }

    [Fact]
    public void TooManyRecipientsNamesTheLimit()
    {
        var recipients = string.Join(',', Enumerable.Range(0, 4).Select(i => $$"""{"email":"r{{i}}@example.net"}"""));
        var problem = Problem($$"""{"envelope_sender":"s@example.com","content":"x","recipients":[{{recipients}}]}""", maxRecipients: 3);
        Assert.Equal("recipients", problem.Field);
        Assert.Contains("limit per request is 3", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizeAttachmentIs413()
    {
        var data = Convert.ToBase64String(new byte[2000]);
        var problem = Problem($$"""{"envelope_sender":"s@example.com","content":{"text_body":"t","attachments":[{"data":"{{data}}","base64":true}]},"recipients":[{"email":"a@example.net"}]}""");
        Assert.Equal(413, problem.Status);
        Assert.Equal("content.attachments[0].data", problem.Field);
    }
}
