using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MailCluster.Queue.Delivery;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>
/// Postfix's <c>smtp-sink</c> (Debian package <c>postfix</c>) as a real misbehaving peer: <c>-r</c> soft-rejects a
/// command (4xx), <c>-f</c> hard-rejects one (5xx), <c>-q</c> hangs up after it, <c>-w</c> delays the DATA reply.
/// </summary>
public sealed class SmtpSinkPeerTests
{
    private const string SmtpSink = "/usr/sbin/smtp-sink";

    [Fact]
    public async Task Soft_reject_of_RCPT_is_transient_per_recipient()
    {
        await using var sink = SinkProcess.Start("-r", "rcpt");
        var outcome = await DeliverAsync(sink.Port);
        Assert.Equal((OutcomeKind.Transient, 4), (outcome.Kind, outcome.Code / 100));
    }

    [Fact]
    public async Task Hard_reject_after_DATA_is_permanent()
    {
        await using var sink = SinkProcess.Start("-f", ".");
        var outcome = await DeliverAsync(sink.Port);
        Assert.Equal((OutcomeKind.Permanent, 5), (outcome.Kind, outcome.Code / 100));
    }

    [Fact]
    public async Task Hang_up_after_the_data_is_transient_not_delivered()
    {
        await using var sink = SinkProcess.Start("-q", ".");
        var outcome = await DeliverAsync(sink.Port);
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (outcome.Kind, outcome.EnhancedCode));
    }

    [Fact]
    public async Task DATA_reply_slower_than_the_data_start_timeout_is_transient()
    {
        await using var sink = SinkProcess.Start("-w", "3");
        var outcome = await DeliverAsync(sink.Port, o => o.DataStartTimeoutSeconds = 1);
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (outcome.Kind, outcome.EnhancedCode));
        Assert.Contains("timed out", outcome.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Plain_sink_accepts()
    {
        await using var sink = SinkProcess.Start();
        var outcome = await DeliverAsync(sink.Port);
        Assert.Equal((OutcomeKind.Delivered, 250), (outcome.Kind, outcome.Code));
    }

    private static async Task<RecipientOutcome> DeliverAsync(int port, Action<OutboundOptions>? configure = null)
    {
        await using var h = await DeliveryHarness.StartAsync(port: port, configure: configure);
        var result = await h.DeliverAsync(Messages.Simple());
        return Assert.Single(result.Outcomes);
    }

    private sealed class SinkProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private SinkProcess(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static SinkProcess Start(params string[] options)
        {
            if (!File.Exists(SmtpSink))
            {
                throw new InvalidOperationException($"{SmtpSink} is missing: install the Debian package postfix.");
            }

            int port = FreePort.Tcp();
            var start = new ProcessStartInfo(SmtpSink) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in options.Concat(Environment.IsPrivilegedProcess ? ["-u", "nobody"] : []))
            {
                start.ArgumentList.Add(arg);
            }

            start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"));
            start.ArgumentList.Add("16");
            var process = Process.Start(start) ?? throw new InvalidOperationException("smtp-sink did not start");
            var sink = new SinkProcess(process, port);
            sink.WaitListening();
            return sink;
        }

        private void WaitListening()
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
            {
                try
                {
                    using var probe = new TcpClient();
                    probe.Connect("127.0.0.1", Port);
                    return;
                }
                catch (SocketException)
                {
                    Thread.Sleep(50);
                }
            }

            throw new InvalidOperationException($"smtp-sink is not listening on {Port}: {_process.StandardError.ReadToEnd()}");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
