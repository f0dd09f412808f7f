using System.ComponentModel;
using Spectre.Console.Cli;

namespace MailCluster.Cli;

/// <summary>Options every command takes: where the node is, the token, and the output form.</summary>
public class GlobalSettings : CommandSettings
{
    [CommandOption("--url <URL>")]
    [Description("Ops endpoint of any node, e.g. http://127.0.0.1:8080 (else $MAILCLUSTER_URL, else the config file, else http://127.0.0.1:8080)")]
    public string? Url { get; init; }

    [CommandOption("--token <TOKEN>")]
    [Description("Bearer token (else $MAILCLUSTER_TOKEN, else the config file)")]
    public string? Token { get; init; }

    [CommandOption("--config <FILE>")]
    [Description("Config file, JSON {\"url\": ..., \"token\": ...} (else $MAILCLUSTER_CONFIG, else ~/.config/mailcluster/config.json)")]
    public string? Config { get; init; }

    [CommandOption("--json")]
    [Description("Machine-readable output: one JSON object, or JSON Lines (one object per line) for lists")]
    public bool Json { get; init; }
}
