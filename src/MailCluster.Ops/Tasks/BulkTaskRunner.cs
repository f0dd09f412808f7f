using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using MailCluster.Ops.Views;
using MailCluster.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Ops.Tasks;

/// <summary>
/// Runs the bulk tasks on this node and takes over those whose node went away. A task interrupted by a restart
/// <b>resumes</b> (it is not marked interrupted): its owner writes a heartbeat with its count at least every second,
/// and a running task whose owner is this node (a restarted node has the same cluster address) or whose heartbeat is
/// older than <see cref="StaleAfter"/> (its node died or left) is claimed and run again from its stored count. That
/// is safe because a run is idempotent (<see cref="BulkTaskExecution"/>): what was already deleted or bounced is not
/// found again. The claim is a conditional update, so two nodes never run one task at once for long: the one that
/// lost the lease stops at its next progress step.
/// </summary>
public sealed partial class BulkTaskRunner(ITaskStore store, IServiceProvider services, ILogger<BulkTaskRunner> logger) : BackgroundService
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    /// <summary>How long a starting node waits before it resumes tasks: the view lists running queues only, and right
    /// after a start the remembered queues are still being started by their shards; a run before that would find no
    /// queue and end "done" with nothing done.</summary>
    public static readonly TimeSpan ResumeAfterStart = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Task> running = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> owner = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationToken stopping;

    /// <summary>This node's name as a task owner (its cluster address), once the actor system runs.</summary>
    public Task<string> OwnerAsync => owner.Task;

    /// <summary>Starts a task this node just created (and owns).</summary>
    public void Start(BulkTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        running.GetOrAdd(task.Id, _ => Task.Run(() => RunAsync(task), CancellationToken.None));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!owner.Task.IsCompleted)
                {
                    var system = services.GetRequiredService<ActorSystem>();
                    var cluster = Cluster.Get(system);
                    if (cluster.SelfMember.Status != MemberStatus.Up)
                    {
                        await Task.Delay(PollInterval, stoppingToken).ConfigureAwait(false);
                        continue;
                    }

                    await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
                    owner.TrySetResult(cluster.SelfAddress.ToString());
                    await Task.Delay(ResumeAfterStart, stoppingToken).ConfigureAwait(false);
                }

                await ClaimAsync(await owner.Task.ConfigureAwait(false), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogPollFailed(logger, ex);
            }

            await Task.Delay(PollInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task ClaimAsync(string me, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var task in await store.ListClaimableAsync(me, now - StaleAfter, ct).ConfigureAwait(false))
        {
            if (running.ContainsKey(task.Id) || !await store.ClaimAsync(task.Id, me, now, now - StaleAfter, ct).ConfigureAwait(false))
            {
                continue;
            }

            LogResumed(logger, task.Id, task.Action, task.Owner, task.Done);
            Start(task with { Owner = me, Resumed = task.Resumed + 1 });
        }
    }

    private async Task RunAsync(BulkTask task)
    {
        try
        {
            var system = services.GetRequiredService<ActorSystem>();
            var region = services.GetRequiredService<IRequiredActor<DomainQueueRegion>>().ActorRef;
            var execution = new BulkTaskExecution(new ClusterQueues(system, region), region, TimeProvider.System);
            await execution.RunAsync(
                task,
                (done, skipped, state, error) => store.ProgressAsync(task.Id, task.Owner, done, skipped, state, error, DateTimeOffset.UtcNow, stopping),
                stopping).ConfigureAwait(false);
            LogFinished(logger, task.Id);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The node stops: the task stays running in the store and resumes when the node (or another) claims it.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A queue that did not answer, a database hiccup: the lease runs out and the next poll (here or elsewhere)
            // resumes the task from its last count.
            LogRunFailed(logger, ex, task.Id);
        }
        finally
        {
            running.TryRemove(task.Id, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bulk task poll failed; retrying")]
    private static partial void LogPollFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bulk task {TaskId} ({Action}) resumed here after {PreviousOwner}, from {Done} done")]
    private static partial void LogResumed(ILogger logger, string taskId, BulkAction action, string previousOwner, long done);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bulk task {TaskId} run ended")]
    private static partial void LogFinished(ILogger logger, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bulk task {TaskId} run failed; it resumes once its lease runs out")]
    private static partial void LogRunFailed(ILogger logger, Exception error, string taskId);
}
