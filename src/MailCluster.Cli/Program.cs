using MailCluster.Cli;
using MailCluster.Cli.Commands;
using Spectre.Console.Cli;

// mailcluster: the ops API from a terminal or a script. Each command is one class under Commands/ registered here.
var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("mailcluster");
    config.SetExceptionHandler((exception, _) =>
    {
        // Parse and validation errors (unknown command or option, missing argument) are usage errors.
        Console.Error.WriteLine("mailcluster: " + exception.Message);
        return exception is CommandAppException ? ExitCodes.Usage : ExitCodes.Failure;
    });
    config.AddBranch("token", token =>
    {
        token.SetDescription("API tokens: create, list, revoke (role admin)");
        token.AddCommand<TokenCreateCommand>("create").WithDescription("Create a token; its secret is shown once").WithExample("token", "create", "--name", "ci", "--role", "read");
        token.AddCommand<TokenListCommand>("list").WithDescription("List the tokens in force (never a secret)");
        token.AddCommand<TokenRevokeCommand>("revoke").WithDescription("Revoke a token on every node");
    });
    config.AddBranch("cluster", cluster =>
    {
        cluster.SetDescription("The cluster");
        cluster.AddCommand<ClusterStatusCommand>("status").WithDescription("Members, leader, and the queues each node hosts");
    });
    config.AddBranch("node", node =>
    {
        node.SetDescription("The node the URL names");
        node.AddCommand<NodeDrainCommand>("drain").WithDescription("Drain the node and let it leave the cluster (role operate)");
    });
    config.AddBranch("queue", queue =>
    {
        queue.SetDescription("Queues");
        queue.AddCommand<QueueListCommand>("list").WithDescription("Messages queued for a domain (--json: JSON Lines)").WithExample("queue", "list", "--domain", "example.com", "--json");
    });
    config.AddCommand<FlushCommand>("flush").WithDescription("Try every deferred message of a domain now (role operate)");
    config.AddBranch("message", message =>
    {
        message.SetDescription("One message in a domain's queue (role admin)");
        message.AddCommand<MessageDeleteCommand>("delete").WithDescription("Remove it without delivery or bounce");
        message.AddCommand<MessageBounceCommand>("bounce").WithDescription("Fail its pending recipients now; the sender gets a DSN");
    });
    config.AddBranch("suppression", suppression =>
    {
        suppression.SetDescription("The suppression list: add, remove (role admin), list, export (role read)");
        suppression.AddCommand<SuppressionAddCommand>("add").WithDescription("Suppress an address, for every sender or one credential").WithExample("suppression", "add", "bob@example.com", "--reason", "asked to stop");
        suppression.AddCommand<SuppressionRemoveCommand>("remove").WithDescription("Remove an address's entry");
        suppression.AddCommand<SuppressionListCommand>("list").WithDescription("Every entry in force (--json: JSON Lines)");
        suppression.AddCommand<SuppressionExportCommand>("export").WithDescription("Every entry as CSV or JSON Lines").WithExample("suppression", "export", "--format", "jsonl");
    });
});
return await app.RunAsync(args).ConfigureAwait(false);
