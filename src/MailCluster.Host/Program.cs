using MailCluster.Host.Composition;
using MailCluster.Host.Configuration;
using MailCluster.Ops;
using MailCluster.Outbound;

// The composition root (STYLE habit 6): read and validate configuration, chain one extension per feature.
if (args.Length > 0 && args[0] == "hash-password")
{
    // Prints the PBKDF2 hash of the password read from standard input, for MailCluster__Smtp__Users__N__PasswordHash.
    return MailCluster.Edge.Auth.PasswordHashCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
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

builder.Services
    .AddStorage(settings)
    .AddOutbound(builder.Configuration)
    .AddMailClusterAkka(settings)
    .AddEdge(settings);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureListeners(settings));

var app = builder.Build();
app.MapOps(settings.Ops.Port);
await app.RunAsync().ConfigureAwait(false);
return 0;
