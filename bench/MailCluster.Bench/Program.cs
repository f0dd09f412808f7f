using System.Globalization;
using MailCluster.Bench;

// Entry point of the timed clients that bench/run.sh drives. Each command prints one line of
// key=value pairs on stdout (the script parses it) and diagnostics on stderr.
//   wait     --port P [--host H] [--timeout S]           until an SMTP greeting arrives
//   latency  --port P --rate R --seconds S --size B --to ADDR [--host H]
//   idle     --port P --count N [--concurrency C] [--hold S] [--cgroup DIR] [--host H]
//   auth     --port P --mode plain|tls|auth --count N [--concurrency C] [--user U --password W] [--host H]
//   soak     --port P --rate R --seconds S [--window W] [--defer-every K] [--domain D] [--defer-domain G] [--size B]
if (args.Length == 0)
{
    await Console.Error.WriteLineAsync("usage: MailCluster.Bench wait|latency|idle --port P ...").ConfigureAwait(false);
    return 2;
}

var options = Options.Parse(args.AsSpan(1));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

string result = args[0] switch
{
    "wait" => await WaitCommand.RunAsync(options, stop.Token).ConfigureAwait(false),
    "latency" => await LatencyCommand.RunAsync(options, stop.Token).ConfigureAwait(false),
    "idle" => await IdleCommand.RunAsync(options, stop.Token).ConfigureAwait(false),
    "auth" => await AuthCommand.RunAsync(options, stop.Token).ConfigureAwait(false),
    "soak" => await SoakCommand.RunAsync(options, stop.Token).ConfigureAwait(false),
    _ => throw new ArgumentException($"unknown command {args[0]}"),
};
Console.WriteLine(result);
return result.StartsWith("error=", StringComparison.Ordinal) ? 1 : 0;

namespace MailCluster.Bench
{
    /// <summary>"--name value" pairs, read by name with a default.</summary>
    internal sealed class Options
    {
        private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

        public static Options Parse(ReadOnlySpan<string> args)
        {
            var options = new Options();
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                options.values[args[i].TrimStart('-')] = args[i + 1];
            }

            return options;
        }

        public string Text(string name, string fallback) => values.TryGetValue(name, out var v) ? v : fallback;

        public double Number(string name, double fallback) =>
            values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

        public int Integer(string name, int fallback) => (int)Number(name, fallback);
    }
}
