using System.ComponentModel;
using System.Globalization;
using Spectre.Console.Cli;

namespace MailCluster.Cli.Commands;

public sealed class MessageShowSettings : GlobalSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("Queue id of the message (the one in \"250 2.0.0 Ok: queued as <id>\")")]
    public string Id { get; init; } = "";
}

/// <summary><c>message show ID</c>: GET /api/v1/messages/{id}: envelope, size, header and every recipient's state, from
/// whichever queues hold it (no domain needed). Exit 5 when the cluster does not know the id.</summary>
public sealed class MessageShowCommand : ApiCommand<MessageShowSettings>
{
    protected override async Task<int> RunAsync(ApiClient api, Output output, MessageShowSettings settings, CancellationToken ct)
    {
        var message = await api.GetAsync($"api/v1/messages/{Segment(settings.Id)}", ct).ConfigureAwait(false);
        if (output.Json)
        {
            output.Line(message);
            return ExitCodes.Ok;
        }

        output.Say($"message {Output.Text(message, "id")}: spool {Output.Text(message, "spool")}, {Output.Text(message, "size") ?? "?"} bytes");
        output.Say($"sender <{Output.Text(message, "sender")}>, arrived {Output.Text(message, "arrivedAt")}");
        var recipients = Output.NewTable("recipient", "queue", "node", "state", "attempts", "next attempt", "last reply");
        foreach (var r in message.GetProperty("recipients").EnumerateArray())
        {
            Output.Row(recipients, Output.Text(r, "address"), Output.Text(r, "queue"), Output.Text(r, "node"), Output.Text(r, "state"),
                Output.Text(r, "attempts"), Output.Text(r, "nextAttemptAt"), Output.Text(r, "lastReply"));
        }

        output.Table(recipients);
        var headers = Output.NewTable("header", "value");
        foreach (var h in message.GetProperty("headers").EnumerateArray())
        {
            Output.Row(headers, Output.Text(h, "name"), Output.Text(h, "value"));
        }

        output.Table(headers);
        var unanswered = message.GetProperty("unanswered_nodes").GetArrayLength();
        if (unanswered > 0)
        {
            output.Say(string.Create(CultureInfo.InvariantCulture, $"{unanswered} nodes did not answer: recipients in their queues are missing"));
        }

        return ExitCodes.Ok;
    }
}
