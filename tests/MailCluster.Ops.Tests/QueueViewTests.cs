using System.Text;
using System.Text.Json;
using MailCluster.Ops.Tasks;
using MailCluster.Ops.Views;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Views;
using Xunit;

namespace MailCluster.Ops.Tests;

/// <summary>The pure parts of the cluster-wide view and the bulk tasks: parameters, filters, bounded headers.</summary>
public sealed class QueueViewTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(null, null, QueueSort.Oldest, false)]
    [InlineData("pending", null, QueueSort.Pending, true)]
    [InlineData("DEFERRED", "asc", QueueSort.Deferred, false)]
    [InlineData("domain", "desc", QueueSort.Domain, true)]
    public void The_summary_order_comes_from_sort_and_order(string? sort, string? order, QueueSort expected, bool descending)
    {
        var (parsed, problem, _) = QueueViewApi.ParseOrder(sort, order);

        Assert.Null(problem);
        Assert.Equal((expected, descending), (parsed!.Sort, parsed.Descending));
    }

    [Theory]
    [InlineData("size", null, "sort")]
    [InlineData("oldest", "up", "order")]
    public void A_bad_sort_or_order_names_its_parameter(string sort, string? order, string field) =>
        Assert.Equal(field, QueueViewApi.ParseOrder(sort, order).Field);

    [Theory]
    [InlineData("""{"action":"bounce","domain":"Example.COM."}""", null)]
    [InlineData("""{"action":"delete","sender":"","older_than_seconds":0}""", null)]
    [InlineData("""{"action":"delete","recipient":"a@example.com"}""", null)]
    [InlineData("""[1]""", "body")]
    [InlineData("""{"domain":"example.com"}""", "action")]
    [InlineData("""{"action":"archive","domain":"example.com"}""", "action")]
    [InlineData("""{"action":"delete"}""", "body")]
    [InlineData("""{"action":"delete","domain":"exa mple.com"}""", "domain")]
    [InlineData("""{"action":"delete","domain":"example.com#2"}""", "domain")]
    [InlineData("""{"action":"delete","recipient":"@example.com"}""", "recipient")]
    [InlineData("""{"action":"delete","older_than_seconds":"1h"}""", "older_than_seconds")]
    [InlineData("""{"action":"delete","older_than_seconds":-5}""", "older_than_seconds")]
    public void A_task_request_is_parsed_or_refused_naming_the_field(string json, string? field)
    {
        using var document = JsonDocument.Parse(json);

        var (_, filter, problem, named) = TaskApi.Parse(document.RootElement);

        Assert.Equal(field, named);
        Assert.Equal(field is null, filter is not null);
        Assert.Equal(field is null, problem is null);
    }

    [Fact]
    public void A_filter_matches_on_every_condition_given()
    {
        var message = new QueuedMessageView("M1", "Alice@Sender.test", T0, T0, [new RecipientView("b@example.com", "pending", 0, T0, null)]);

        Assert.True(new BulkTaskFilter("example.com", null, null, null).Matches(message, T0));
        Assert.True(new BulkTaskFilter(null, "alice@sender.test", "B@example.com", 60).Matches(message, T0.AddMinutes(1)));
        Assert.False(new BulkTaskFilter(null, "alice@sender.test", null, 61).Matches(message, T0.AddMinutes(1)));
        Assert.False(new BulkTaskFilter(null, "bob@sender.test", null, null).Matches(message, T0));
        Assert.False(new BulkTaskFilter(null, null, "c@example.com", null).Matches(message, T0));
        Assert.Equal("example.com", new BulkTaskFilter(null, null, "b@EXAMPLE.com", null).QueueDomain);
        Assert.Null(new BulkTaskFilter(null, "alice@sender.test", null, null).QueueDomain);
    }

    [Fact]
    public void Headers_are_unfolded_and_bounded()
    {
        var header = new StringBuilder("Subject: a\r\n folded line\r\nX-Long: ").Append('x', 2000).Append("\r\n");
        for (int i = 0; i < 150; i++)
        {
            header.Append("X-").Append(i).Append(": v\r\n");
        }

        var (fields, truncated) = MessageHeaders.Parse(Encoding.ASCII.GetBytes(header.Append("\r\nbody\r\n").ToString()));

        Assert.True(truncated);
        Assert.Equal(MessageHeaders.MaxHeaders, fields.Count);
        Assert.Equal(new HeaderField("Subject", "a folded line"), fields[0]);
        Assert.Equal(MessageHeaders.MaxValueLength, fields[1].Value.Length);

        var (small, cut) = MessageHeaders.Parse(Encoding.ASCII.GetBytes("From: a@b.test\r\n\r\nbody"));
        Assert.False(cut);
        Assert.Equal([new HeaderField("From", "a@b.test")], small);
        Assert.Empty(MessageHeaders.Parse(ReadOnlyMemory<byte>.Empty).Fields);
    }
}
