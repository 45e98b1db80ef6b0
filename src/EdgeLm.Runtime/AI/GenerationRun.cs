using System.Threading.Channels;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// One generation running on a leased session, on its own thread: its tokens stream through
/// <see cref="ReadAllAsync"/> and its outcome arrives in <see cref="Completion"/>. Disposing cancels the generation
/// if it is still going and waits until the session is back in its pool.
/// </summary>
public sealed class GenerationRun : IAsyncDisposable
{
    private readonly Channel<GeneratedToken> _tokens = Channel.CreateUnbounded<GeneratedToken>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _cancel;

    internal GenerationRun(SessionLease lease, int[] prompt, GenerationOptions options, RunnerStatistics statistics,
        CancellationToken cancellationToken)
    {
        PromptTokenCount = prompt.Length;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = _cancel.Token;
        Completion = Task.Factory.StartNew(() =>
        {
            try
            {
                var result = Generator.Generate(lease.Session, prompt, options, t => _tokens.Writer.TryWrite(t), token);
                statistics.RecordGeneration(result);
                return result;
            }
            catch (OperationCanceledException)
            {
                statistics.RecordCancelled();
                throw;
            }
            finally
            {
                // Errors surface through Completion; the reader just sees the stream end.
                _tokens.Writer.TryComplete();
                lease.Dispose();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokenCount { get; }

    /// <summary>The whole result, once generation has ended; faults (or is cancelled) as the generation did.</summary>
    public Task<GenerationResult> Completion { get; }

    /// <summary>The generated tokens as they come (one reader only). Await <see cref="Completion"/> afterwards for the outcome.</summary>
    public IAsyncEnumerable<GeneratedToken> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _tokens.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Stops the generation (if running) and waits for its session to be released.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!Completion.IsCompleted)
            await _cancel.CancelAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch
        {
            // The owner observes failures through Completion; disposal only waits for the session.
        }
        _cancel.Dispose();
    }
}
