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
    config.AddBranch("user", user =>
    {
        user.SetDescription("Runtime SMTP AUTH users: add, passwd, list, remove (role admin)");
        user.AddCommand<UserAddCommand>("add").WithDescription("Add a user; the password is read from standard input or --password-file").WithExample("user", "add", "app1", "--sender", "example.com", "--password-file", "pw.txt");
        user.AddCommand<UserPasswdCommand>("passwd").WithDescription("Change a user's password");
        user.AddCommand<UserListCommand>("list").WithDescription("List runtime and configured users (never a hash)");
        user.AddCommand<UserRemoveCommand>("remove").WithDescription("Remove a runtime user on every node");
    });
    config.AddBranch("key", key =>
    {
        key.SetDescription("API keys for applications: create, list, disable, enable, delete (role admin)");
        key.AddCommand<KeyCreateCommand>("create").WithDescription("Create a key; its secret is shown once").WithExample("key", "create", "--name", "shop", "--sender", "example.com", "--rate-per-minute", "60");
        key.AddCommand<KeyListCommand>("list").WithDescription("List keys (never a secret)");
        key.AddCommand<KeyDisableCommand>("disable").WithDescription("Refuse a key on every node, keeping it");
        key.AddCommand<KeyEnableCommand>("enable").WithDescription("Accept a disabled key again");
        key.AddCommand<KeyDeleteCommand>("delete").WithDescription("Delete a key");
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
        queue.AddCommand<QueueSummaryCommand>("summary").WithDescription("Every queue of the cluster with its backlog and node (--json: JSON Lines)").WithExample("queue", "summary", "--sort", "deferred");
    });
    config.AddCommand<FlushCommand>("flush").WithDescription("Try every deferred message of a domain, or of every queue, now (role operate)");
    config.AddCommand<BounceCommand>("bounce").WithDescription("Bounce every message matching a filter, cluster-wide, as a task (role admin)").WithExample("bounce", "--domain", "example.com", "--older-than", "2d");
    config.AddCommand<DeleteCommand>("delete").WithDescription("Delete every message matching a filter, cluster-wide, as a task (role admin)").WithExample("delete", "--sender", "spammer@example.net");
    config.AddBranch("message", message =>
    {
        message.SetDescription("One message in a domain's queue (role admin)");
        message.AddCommand<MessageShowCommand>("show").WithDescription("Envelope, header and every recipient's state, from any node (role read)");
        message.AddCommand<MessageDeleteCommand>("delete").WithDescription("Remove it without delivery or bounce");
        message.AddCommand<MessageBounceCommand>("bounce").WithDescription("Fail its pending recipients now; the sender gets a DSN");
        message.AddCommand<MessageHoldCommand>("hold").WithDescription("Hold it in every queue, on any node: never attempted or expired until released (role operate)");
        message.AddCommand<MessageReleaseCommand>("release").WithDescription("Release it from hold (role operate)");
    });
    config.AddCommand<SuspendCommand>("suspend").WithDescription("Suspend a destination domain cluster-wide: no delivery starts until the end (role operate)")
        .WithExample("suspend", "example.com", "--for", "2h", "--reason", "their MX is overloaded");
    config.AddCommand<SuspensionsCommand>("suspensions").WithDescription("The active suspensions (role read; --json: JSON Lines)");
    config.AddCommand<ResumeCommand>("resume").WithDescription("End a destination domain's suspension now (role operate)");
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
