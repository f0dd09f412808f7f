using Akka.Actor;
using MailCluster.Queue.Spool;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.WarmUp;

/// <summary>
/// Runs <see cref="DurablePathWarmUp"/> at start and holds the node's start until it is done, at most
/// <see cref="Limit"/>: registered after the actor system's hosted service and before the web host's, so the SMTP and
/// ops listeners open (and the node greets and reports ready) only once a message can be committed without paying
/// the stores' first-use cost. Before it, a fresh node greeted first and its first few dozen clients waited
/// 0.6-0.8 s for their 250 (docs/BENCHMARKS.md, tail latency). A failure or the limit is logged and the node starts
/// as before: the first message then pays the cost, or gets the store's error as any message would.
/// </summary>
public static partial class DurablePathWarmUpHosting
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <param name="journal">The node hosts domain queues (delivery role): warm the journal, and the domain queue's
    /// in-memory code (<see cref="QueueCodeWarmUp"/>, one of the <see cref="ICodeWarmUp"/>s the warm-up runs).</param>
    /// <param name="spool">The node accepts mail (edge role): warm the spool.</param>
    public static IServiceCollection AddDurablePathWarmUp(this IServiceCollection services, bool journal, bool spool)
    {
        if (journal)
        {
            services.AddSingleton<ICodeWarmUp>(sp => new QueueCodeWarmUp(sp.GetRequiredService<ActorSystem>()));
        }

        return services.AddHostedService(sp => new Runner(sp, journal, spool, Limit, sp.GetRequiredService<ILogger<Runner>>()));
    }

    internal sealed partial class Runner(IServiceProvider services, bool journal, bool spool, TimeSpan atMost, ILogger<Runner> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(atMost);
            try
            {
                var result = await DurablePathWarmUp.RunAsync(
                    journal ? services.GetRequiredService<ActorSystem>() : null,
                    spool ? services.GetRequiredService<ISpoolStore>() : null,
                    limit.Token,
                    [.. services.GetServices<ICodeWarmUp>()]).WaitAsync(limit.Token).ConfigureAwait(false);
                LogDone(logger, result.JournalMs, result.SpoolMs, result.CodeMs);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The host is stopping while it starts (SIGTERM during the warm-up): nothing is left to warm, and the
                // stop goes on as it would have without this service.
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogFailed(logger, ex.GetType().Name, ex.Message);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Durable path warm-up before the listeners open: journal {JournalMs} ms, spool {SpoolMs} ms, in-memory code {CodeMs} ms (blank: not this node's role); nothing stored")]
        private static partial void LogDone(ILogger logger, long? journalMs, long? spoolMs, long? codeMs);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Durable path warm-up did not finish ({Kind}: {Reason}); the node starts without it")]
        private static partial void LogFailed(ILogger logger, string kind, string reason);
    }
}
