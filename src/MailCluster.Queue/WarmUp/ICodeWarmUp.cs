namespace MailCluster.Queue.WarmUp;

/// <summary>
/// In-memory code a feature runs for a node's first messages, run once at start by <see cref="DurablePathWarmUp"/>
/// before the listeners open, so that the runtime compiles it then rather than while the first clients wait (see
/// <see cref="QueueCodeWarmUp"/> for why ReadyToRun leaves such code to the JIT). A feature registers its own as a
/// singleton; nothing may be stored, sent or logged by it.
/// </summary>
public interface ICodeWarmUp
{
    /// <summary>Runs the code once, on a throw-away input.</summary>
    void Run();
}
