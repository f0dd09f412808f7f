using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MailCluster.Events.Webhooks;

/// <summary>
/// Delivers the events to every webhook, at least once and in offset order per webhook (issue 16). Runs on one node at a
/// time (<see cref="WebhookDispatcherActor"/>, a cluster singleton); everything it needs is in the database: the
/// webhooks, each one's cursor (the last offset sent or given up on, and since when the next batch fails), so another
/// node continues where a dead one stopped (an event in flight then may be sent twice: receivers dedupe by event_id).
/// It reads the events table only, never the queues: a receiver that is down slows nothing but its own webhook.
/// <para>Per webhook: read up to BatchSize events after the cursor (of its types), POST them (one JSON object, or an array
/// when BatchSize &gt; 1) signed with <see cref="WebhookSignature"/>; 2xx moves the cursor; anything else is retried
/// with exponential backoff (1 s doubling, at most MaxBackoffSeconds) until MaxRetrySeconds after the first failure,
/// then the batch is recorded as failed and passed. Every try is recorded (the last 50 per webhook).</para>
/// </summary>
public sealed partial class WebhookDispatcher(EventStore store, HttpClient http, WebhooksOptions options, EventMetrics metrics, TimeProvider clock, ILogger<WebhookDispatcher> logger)
{
    private const int MaxAnswer = 1000;
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(1);

    /// <summary>Runs until <paramref name="ct"/> is cancelled: keeps one worker per webhook, started and stopped as
    /// webhooks are added, changed or deleted on any node.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var workers = new Dictionary<string, (WebhookDefinition Hook, CancellationTokenSource Stop, Task Work)>(StringComparer.Ordinal);
        LogStarted(logger);
        try
        {
            await store.Initialized.WaitAsync(ct).ConfigureAwait(false);
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var hooks = (await store.WebhooksAsync(ct).ConfigureAwait(false)).ToDictionary(h => h.Id, StringComparer.Ordinal);
                    foreach (var (id, worker) in workers.Where(w => !hooks.TryGetValue(w.Key, out var h) || !h.SameDelivery(w.Value.Hook)).ToList())
                    {
                        await worker.Stop.CancelAsync().ConfigureAwait(false);
                        await worker.Work.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                        worker.Stop.Dispose();
                        workers.Remove(id);
                        metrics.WebhookLag.RemoveLabelled(id);
                    }

                    foreach (var hook in hooks.Values.Where(h => !workers.ContainsKey(h.Id)))
                    {
                        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        workers[hook.Id] = (hook, stop, Task.Run(() => WorkAsync(hook, stop.Token), CancellationToken.None));
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogStoreFailed(logger, ex);
                }

                await Task.Delay(Refresh, clock, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            foreach (var worker in workers.Values)
            {
                await worker.Stop.CancelAsync().ConfigureAwait(false);
                await worker.Work.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                worker.Stop.Dispose();
            }
        }
    }

    private async Task WorkAsync(WebhookDefinition hook, CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var wait = await StepAsync(hook, failures, ct).ConfigureAwait(false);
                failures = wait is null ? 0 : wait.Value.Failed ? failures + 1 : failures;
                await Task.Delay(wait?.Delay ?? TimeSpan.Zero, clock, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogStoreFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(2), clock, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>One batch: null when it was sent (go on at once), else how long to wait and whether a POST failed.</summary>
    private async Task<(TimeSpan Delay, bool Failed)?> StepAsync(WebhookDefinition hook, int failures, CancellationToken ct)
    {
        var cursor = await store.CursorAsync(hook.Id, ct).ConfigureAwait(false) ?? new WebhookCursor(0, null, 0);
        var lag = await store.MaxOffsetAsync(ct).ConfigureAwait(false) - cursor.Offset;
        var events = await store.QueryAsync(new EventQuery(cursor.Offset, hook.BatchSize, Types: hook.EffectiveEvents), ct).ConfigureAwait(false);
        metrics.WebhookLag.WithLabels(hook.Id).Set(Math.Max(0, lag));
        if (events.Count == 0)
        {
            return (Idle, false);
        }

        var body = Encoding.UTF8.GetBytes(hook.BatchSize == 1
            ? events[0].WithOffset()
            : "[" + string.Join(",", events.Select(e => e.WithOffset())) + "]");
        var now = clock.GetUtcNow();
        var (status, answer, error, duration) = await PostAsync(hook, body, now, ct).ConfigureAwait(false);
        var (first, last) = (events[0].Offset, events[^1].Offset);
        if (status is >= 200 and < 300)
        {
            metrics.WebhookRequests.WithLabels(hook.Id, "delivered").Inc();
            await store.RecordAttemptAsync(hook.Id, cursor with { Offset = last, FailingSince = null },
                new WebhookAttempt(now, first, last, events.Count, status, answer, null, duration, "delivered"), ct).ConfigureAwait(false);
            return null;
        }

        metrics.WebhookRequests.WithLabels(hook.Id, "failed").Inc();
        var since = cursor.FailingSince ?? now;
        var window = TimeSpan.FromSeconds(hook.MaxRetrySeconds ?? options.MaxRetrySeconds);
        var backoff = Backoff(failures, TimeSpan.FromSeconds(options.MaxBackoffSeconds), Random.Shared.NextDouble());
        if (RetryWait(since, now, window, backoff) is not { } wait)
        {
            LogGaveUp(logger, hook.Id, events.Count, first, last, window.TotalSeconds);
            metrics.WebhookFailedEvents.WithLabels(hook.Id).Inc(events.Count);
            await store.RecordAttemptAsync(hook.Id, new WebhookCursor(last, null, cursor.FailedEvents + events.Count),
                new WebhookAttempt(now, first, last, events.Count, status, answer, error, duration, "failed"), ct).ConfigureAwait(false);
            return null;
        }

        await store.RecordAttemptAsync(hook.Id, cursor with { FailingSince = since },
            new WebhookAttempt(now, first, last, events.Count, status, answer, error, duration, "retrying"), ct).ConfigureAwait(false);
        return (wait, true);
    }

    /// <summary>The give-up decision after a failed try at <paramref name="now"/> of a batch failing since
    /// <paramref name="since"/>: null once <paramref name="window"/> has passed (record the batch as failed and move
    /// past it), else how long to wait before the next try: <paramref name="backoff"/>, but never past the end of the
    /// window, so the last try is at its end.</summary>
    public static TimeSpan? RetryWait(DateTimeOffset since, DateTimeOffset now, TimeSpan window, TimeSpan backoff)
    {
        var left = since + window - now;
        return left <= TimeSpan.Zero ? null : backoff < left ? backoff : left;
    }

    /// <summary>1 s, 2 s, 4 s, … after the 1st, 2nd, 3rd failure, at most <paramref name="max"/>, with ±20 % jitter.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan max, double random)
    {
        var seconds = Math.Min(max.TotalSeconds, Math.Pow(2, Math.Min(failures, 30)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (0.4 * random)));
    }

    private async Task<(int? Status, string? Answer, string? Error, long DurationMs)> PostAsync(WebhookDefinition hook, byte[] body, DateTimeOffset now, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Sign(hook.Secret, now.ToUnixTimeSeconds(), body));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, text.Length > MaxAnswer ? text[..MaxAnswer] : text, null, Elapsed(started));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, null, $"no answer within {options.TimeoutSeconds} s", Elapsed(started));
        }
        catch (HttpRequestException ex)
        {
            return (null, null, ex.Message, Elapsed(started));
        }
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery runs on this node")]
    private static partial void LogStarted(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook store not reachable; retrying")]
    private static partial void LogStoreFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Webhook}: {Count} events (offsets {First}..{Last}) recorded as failed after {Seconds} s of retries")]
    private static partial void LogGaveUp(ILogger logger, string webhook, int count, long first, long last, double seconds);
}
