using MailCluster.Api;
using MailCluster.Edge;
using MailCluster.Edge.Credentials;
using MailCluster.Edge.Credentials.Quota;
using MailCluster.Edge.Dkim;
using MailCluster.Edge.WarmUp;
using MailCluster.Events;
using MailCluster.Host.Composition;
using MailCluster.Host.Configuration;
using MailCluster.Host.Logging;
using MailCluster.Ops;
using MailCluster.Ops.Access;
using MailCluster.Ops.Suspensions;
using MailCluster.Ops.Tasks;
using MailCluster.Ops.Suppression;
using MailCluster.Outbound;
using MailCluster.Queue;
using MailCluster.Queue.WarmUp;
using MailCluster.Storage;

// The composition root (STYLE habit 6): read and validate configuration, chain one extension per feature.
if (args.Length > 0 && args[0] == "hash-password")
{
    // Prints the PBKDF2 hash of the password read from standard input, for MailCluster__Smtp__Users__N__PasswordHash.
    return MailCluster.Edge.Auth.PasswordHashCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
}

if (args.Length > 0 && args[0] == MailCluster.Edge.Dkim.DkimKeygenCommand.Name)
{
    // dkim keygen --domain D --selector S --algorithm rsa-sha256|ed25519-sha256 [--out key.pem]: a key and its TXT record.
    return MailCluster.Edge.Dkim.DkimKeygenCommand.Run(args[1..], Console.Out, Console.Error);
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
NodeSettings settings;
try
{
    settings = NodeSettings.Load(builder.Configuration);
}
catch (ConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
    return 2;
}

// The slim builder installs the console logger with the simple formatter fixed in code, over Logging:Console; this
// registers the json and systemd formatters too and lets Logging__Console__FormatterName=json choose (README "The mail log").
// The records are written in batches (BatchedConsoleLoggerProvider: the same text, one write per 50 ms, not per record).
var consoleFormatter = builder.Configuration["Logging:Console:FormatterName"];
builder.Logging.AddConsole(console => console.FormatterName = consoleFormatter ?? console.FormatterName).UseBatchedConsole();

var roles = settings.Cluster.EffectiveRoles;
builder.Services
    .AddOps()
    .AddStorage(settings.Storage, settings.Node.DataDir)
    .AddServiceMetrics(settings)
    .AddOutbound(builder.Configuration)
    .AddTransportSecurity(builder.Configuration, settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir)
    .AddMessageAcceptor(settings.Queue, settings.DomainBuckets)
    .AddCredentials(settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir)
    .AddQuotaGate()
    .AddEdge(settings.Smtp, settings.Domains, settings.Node.Hostname)
    .AddDkim(settings.Dkim)
    .AddInjection(settings.Api, settings.Smtp, settings.Node.Hostname, roles, (settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir))
    .AddMailClusterAkka(settings, (akka, provider) => akka
        .WithStorage(settings.Storage, settings.Node.DataDir)
        .WithDeliveryQueue(settings.DeliveryQueue, provider)
        .WithOrphanSweep(settings.DeliveryQueue, provider)
        .WithKeyQuotas()
        .WithEvents(provider))
    .AddEvents(settings.Events, settings.Webhooks, settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir)
    .AddOpsAccess(settings.Ops, settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir)
    .AddSuspensions(settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir)
    .AddBulkTasks(settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir)
    .AddSuppression(BounceHosting.Load(settings.Bounces).Classifier!, settings.Suppression, settings.Storage.IsPostgreSql, settings.Storage.ConnectionString, settings.Node.DataDir);
if (roles.Contains(EdgeHosting.Role))
{
    // Synthetic SMTP sessions in the background at start, after the actor system (issue 18: cold start; nothing stored).
    builder.Services.AddSmtpWarmUp();
}

// Holds the listeners until the journal and the spool have run their first statements (issue 18: a fresh node's
// first clients waited 0.6-0.8 s for their 250). Registered last, so the SMTP warm-up above runs beside it.
builder.Services.AddDurablePathWarmUp(journal: roles.Contains(DeliveryQueueSettings.Role), spool: roles.Contains(EdgeHosting.Role));

builder.WebHost.ConfigureKestrel(kestrel => kestrel
    .ListenOps(settings.Ops)
    .ListenSmtp(settings.Smtp, roles));

var app = builder.Build();
app.UseOpsAccess();
app.MapOpsApi(settings.Ops, settings.DomainBuckets);
app.MapEvents(settings.Ops.Port);

// Drain before stop. On SIGTERM or POST /api/v1/node/drain the SMTP listeners stay open while sessions drain: new
// sessions get 421 4.3.2, sessions waiting for a command get 421 4.3.2, DATA in flight may finish (DrainTimeout).
// Only then does the host stop Kestrel and run Akka's CoordinatedShutdown (hand off shards, leave the cluster).
await app.StartAsync().ConfigureAwait(false);
var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using (app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()))
{
    await stopping.Task.ConfigureAwait(false);
}

await SessionDrain.WaitAsync(app.Services, settings.Smtp, roles).ConfigureAwait(false);
await app.StopAsync().ConfigureAwait(false);
await app.DisposeAsync().ConfigureAwait(false);
return 0;
