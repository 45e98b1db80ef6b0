using EdgeLm.Runtime.Generation;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// A bounded set of <see cref="InferenceSession"/>s (each its own KV cache) shared by concurrent requests: a request
/// leases a session, waits in a bounded queue while all are busy, and gives it back (reset) when done. Sessions are
/// created on first need. Thread-safe.
/// </summary>
public sealed class SessionPool
{
    private readonly LanguageModel _model;
    private readonly SessionOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly Stack<InferenceSession> _idle = new();
    private readonly Lock _lock = new();
    private int _waiting;
    private int _busy;

    /// <summary>Creates a pool of at most <paramref name="size"/> sessions with at most <paramref name="queueLimit"/> waiters.</summary>
    public SessionPool(LanguageModel model, SessionOptions options, int size, int queueLimit)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLimit);
        _model = model;
        _options = options;
        Size = size;
        QueueLimit = queueLimit;
        _slots = new SemaphoreSlim(size, size);
        // Create one session now so that a bad option (a context the model cannot take) shows at start-up.
        var first = model.CreateSession(options);
        ContextLength = first.ContextLength;
        _idle.Push(first);
    }

    /// <summary>Most sessions in use at once.</summary>
    public int Size { get; }

    /// <summary>Most requests that may wait for a session.</summary>
    public int QueueLimit { get; }

    /// <summary>Sessions leased right now.</summary>
    public int Busy => Volatile.Read(ref _busy);

    /// <summary>Requests waiting for a session right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The context length of every session.</summary>
    public int ContextLength { get; }

    /// <summary>Leases a session, waiting while all are busy.</summary>
    /// <exception cref="SessionPoolFullException">All sessions are busy and the queue is full.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public async ValueTask<SessionLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_slots.Wait(0, CancellationToken.None))
        {
            if (Interlocked.Increment(ref _waiting) > QueueLimit)
            {
                Interlocked.Decrement(ref _waiting);
                throw new SessionPoolFullException(Size, QueueLimit);
            }
            try
            {
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        try
        {
            InferenceSession? session;
            lock (_lock)
                _idle.TryPop(out session);
            session ??= _model.CreateSession(_options);
            Interlocked.Increment(ref _busy);
            return new SessionLease(this, session);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    internal void Return(InferenceSession session)
    {
        session.Reset();
        lock (_lock)
            _idle.Push(session);
        Interlocked.Decrement(ref _busy);
        _slots.Release();
    }
}

/// <summary>A session on loan from a <see cref="SessionPool"/>; disposing gives it back, emptied.</summary>
public sealed class SessionLease : IDisposable
{
    private readonly SessionPool _pool;
    private InferenceSession? _session;

    internal SessionLease(SessionPool pool, InferenceSession session)
    {
        _pool = pool;
        _session = session;
    }

    /// <summary>The leased session (starts empty).</summary>
    public InferenceSession Session => _session ?? throw new ObjectDisposedException(nameof(SessionLease));

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _session, null) is { } session)
            _pool.Return(session);
    }
}
