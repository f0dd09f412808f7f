using System.Diagnostics;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge.WarmUp;

/// <summary>
/// Runs <see cref="SmtpWarmUp"/> once when the node starts, on edge nodes. Registered after the actor system's hosted
/// service, so the system is up when it starts; it does not hold up the start (the SMTP listeners open at once and
/// greet as before): the sessions run in the background while the node joins its cluster, and a client that connects
/// meanwhile is served as usual. 40 sessions of 2 messages: enough calls of the per-session and per-command code for
/// the runtime to queue its hot methods for the optimizing tier (30 calls each), a few tens of milliseconds of CPU.
/// </summary>
public static partial class SmtpWarmUpHosting
{
    public const int Sessions = 40;
    public const int MessagesPerSession = 2;

    public static IServiceCollection AddSmtpWarmUp(this IServiceCollection services) =>
        services.AddHostedService(sp => new Runner(sp, sp.GetRequiredService<ILogger<Runner>>()));

    internal sealed partial class Runner(IServiceProvider services, ILogger<Runner> logger) : IHostedService, IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _run = Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            var edge = services.GetRequiredService<EdgeServices>();
            var system = services.GetRequiredService<ActorSystem>();
            _run = Task.Run(() => RunAsync(edge, system), CancellationToken.None);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => _stop.Dispose();

        private async Task RunAsync(EdgeServices edge, ActorSystem system)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var messages = await SmtpWarmUp.RunAsync(edge, system, Sessions, MessagesPerSession, _stop.Token).ConfigureAwait(false);
                LogDone(logger, messages, Sessions * MessagesPerSession, clock.ElapsedMilliseconds);
            }
            catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
            {
                // Best effort: a node that stops during its warm-up, or a session that failed, serves clients as usual.
                LogFailed(logger, ex.Message);
            }
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "SMTP warm-up: {Accepted} of {Messages} synthetic messages answered 250 in {Milliseconds} ms (nothing stored)")]
        private static partial void LogDone(ILogger logger, int accepted, int messages, long milliseconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP warm-up ended early: {Reason}")]
        private static partial void LogFailed(ILogger logger, string reason);
    }
}
