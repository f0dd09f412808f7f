using Xunit;
using System.Collections.Concurrent;
using System.Text;
using MailCluster.Api.Access;
using MailCluster.Api.Requests;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailCluster.Api.Tests;

/// <summary>The per-recipient contract over an in-process acceptor that fails chosen recipients.</summary>
public sealed class InjectorTests
{
    private static readonly InjectionCaller Caller = new("token:t", "app", _ => true);

    private sealed class Acceptor(string failFor) : IMessageAcceptor
    {
        public ConcurrentDictionary<string, byte[]> Accepted { get; } = new();

        public Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
        {
            if (recipients[0] == failFor)
            {
                return Task.FromResult(new AcceptResult(AcceptOutcome.Failed, messageId, "database down"));
            }

            Accepted[recipients[0]] = body.ToArray();
            return Task.FromResult(new AcceptResult(AcceptOutcome.Accepted, messageId, null));
        }
    }

    private static InjectRequest Request(params string[] recipients) => InjectRequestReader.Read(
        Encoding.UTF8.GetBytes($$"""{"envelope_sender":"s@example.com","content":"Subject: hi\n\nx","recipients":[{{string.Join(',', recipients.Select(r => $$"""{"email":"{{r}}"}"""))}}]}"""),
        100,
        1024);

    private static Injector Injector(IMessageAcceptor acceptor, long maxSize = 1 << 20) =>
        new(acceptor, "mc.test", maxSize, null, TimeProvider.System, NullLogger<Injector>.Instance);

    [Fact]
    public async Task EveryMessageDurableIs200WithTraceFieldAndQueueIds()
    {
        var acceptor = new Acceptor("none");
        var response = await Injector(acceptor).InjectAsync(Request("a@example.net", "b@example.net"), Caller, "127.0.0.1", "HTTP", null, default);
        Assert.Equal(200, response.Status);
        Assert.Equal(2, response.SuccessCount);
        Assert.All(response.QueueIds, id => Assert.Matches("^[0-9A-F]{32}$", id!));
        var text = Encoding.UTF8.GetString(acceptor.Accepted["a@example.net"]);
        Assert.StartsWith("Received: from api ([127.0.0.1])\r\n\tby mc.test (MailCluster) with HTTP\r\n\t(authenticated as app)\r\n\tid " + response.QueueIds[0], text, StringComparison.Ordinal);
        Assert.Contains($"Message-ID: <{response.QueueIds[0]}@mc.test>\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailedAcceptanceIs503NamingItAndARetrySendsOnlyTheRest()
    {
        var request = Request("a@example.net", "b@example.net", "c@example.net");
        var first = await Injector(new Acceptor("b@example.net")).InjectAsync(request, Caller, null, "HTTP", null, default);
        Assert.Equal(503, first.Status);
        Assert.Equal(["b@example.net"], first.FailedRecipients);
        Assert.Null(first.QueueIds[1]);
        Assert.NotNull(first.QueueIds[0]);

        var retryAcceptor = new Acceptor("none");
        var retry = await Injector(retryAcceptor).InjectAsync(request, Caller, null, "HTTP", first.QueueIds, default);
        Assert.Equal(200, retry.Status);
        Assert.Equal(["b@example.net"], retryAcceptor.Accepted.Keys);
        Assert.Equal(first.QueueIds[0], retry.QueueIds[0]);
        Assert.Equal(first.QueueIds[2], retry.QueueIds[2]);
    }

    [Fact]
    public async Task AnOversizeMessageQueuesNothing()
    {
        var acceptor = new Acceptor("none");
        var problem = (await Assert.ThrowsAsync<RequestProblemException>(() => Injector(acceptor, maxSize: 200).InjectAsync(Request("a@example.net"), Caller, null, "HTTP", null, default))).Problem;
        Assert.Equal(413, problem.Status);
        Assert.Empty(acceptor.Accepted);
    }
}
