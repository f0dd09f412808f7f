using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using MailCluster.Events.Webhooks;
using MailCluster.Testing;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A real HTTP receiver for webhooks on loopback (HttpListener): answers each POST as <see cref="Answer"/> says (a
/// status, or null to never answer so the sender times out), checks every request's MailCluster-Signature with the
/// secret, and keeps every event of the 2xx-answered requests, in arrival order.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _secret;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _requests;

    public WebhookReceiver(string secret)
    {
        _secret = secret;
        // Not a port-0 probe: the kernel may hand that ephemeral port to any outgoing connection (of this or a
        // parallel scenario) before HttpListener binds it; FreePort's ports are below the ephemeral range.
        Port = FreePort.Tcp();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    /// <summary>Given the 1-based request number: the status to answer, or null to hang.</summary>
    public Func<int, int?> Answer { get; set; } = _ => 200;

    /// <summary>When set, decides instead of <see cref="Answer"/>, given the request number and the events it carries.</summary>
    public Func<int, IReadOnlyList<JsonElement>, int?>? AnswerEvents { get; set; }

    /// <summary>Every answered request: the status given and the events it carried (2xx or not), in arrival order.</summary>
    public ConcurrentQueue<(int Status, IReadOnlyList<JsonElement> Events)> Answered { get; } = new();

    /// <summary>Requests whose signature did not verify (must stay 0).</summary>
    public int BadSignatures { get; private set; }

    public int Requests => _requests;

    public ConcurrentQueue<JsonElement> Accepted { get; } = new();

    public async Task<List<JsonElement>> WaitForAsync(Func<IReadOnlyList<JsonElement>, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!until([.. Accepted]))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"webhook receiver: condition not met; {_requests} requests, events: {string.Join(" ", Accepted.Select(e => e.GetProperty("type").GetString() + ":" + e.GetProperty("recipient").GetString()))}");
            }

            await Task.Delay(200);
        }

        return [.. Accepted];
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var n = Interlocked.Increment(ref _requests);
        if (!WebhookSignature.Verify(_secret, context.Request.Headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)))
        {
            BadSignatures++;
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        List<JsonElement> events = root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray().Select(x => x.Clone())] : [root.Clone()];
        if ((AnswerEvents is { } decide ? decide(n, events) : Answer(n)) is not { } status)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            context.Response.Abort();
            return;
        }

        if (status is >= 200 and < 300)
        {
            foreach (var e in events)
            {
                Accepted.Enqueue(e);
            }
        }

        Answered.Enqueue((status, events));

        context.Response.StatusCode = status;
        var answer = Encoding.UTF8.GetBytes(status is >= 200 and < 300 ? "ok" : "try later");
        await context.Response.OutputStream.WriteAsync(answer);
        context.Response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
