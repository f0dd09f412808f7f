using Spectre.Console;
using Spectre.Console.Cli;

namespace MailCluster.Cli;

/// <summary>
/// A command that calls the ops API: resolves the endpoint and token, runs <see cref="RunAsync"/>, and turns a
/// failure into its exit code with the message on standard error. A new command is one file deriving from this.
/// </summary>
public abstract class ApiCommand<TSettings> : AsyncCommand<TSettings>
    where TSettings : GlobalSettings
{
    protected abstract Task<int> RunAsync(ApiClient api, Output output, TSettings settings, CancellationToken ct);

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        try
        {
            using var api = new ApiClient(Endpoint.Resolve(settings));
            var console = AnsiConsole.Console;
            if (Console.IsOutputRedirected)
            {
                // Piped into grep or a file: one line per row, not wrapped at an assumed 80 columns.
                console.Profile.Width = 1000;
            }

            return await RunAsync(api, new Output(settings.Json, console, Console.Out), settings, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync("mailcluster: " + ex.Message).ConfigureAwait(false);
            return ex.ExitCode;
        }
    }

    /// <summary>A path segment from user input, escaped.</summary>
    protected static string Segment(string text) => Uri.EscapeDataString(text);
}
