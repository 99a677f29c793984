using System.Collections.Concurrent;
using Grpc.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>The gRPC face of a block server: checks every call, then runs the engine on the session's KV caches.</summary>
internal sealed class BlockServerService : BlockServer.BlockServerBase
{
    private readonly LlamaModel _model;
    private readonly BlockServerLimits _limits;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ServerSession> _sessions = new(StringComparer.Ordinal);

    public BlockServerService(LlamaModel model, BlockServerLimits limits, TimeProvider time)
    {
        _model = model;
        _limits = limits;
        _time = time;
    }

    /// <summary>Drops sessions idle for longer than the limit (skipping any in the middle of a call); returns how many.</summary>
    public int EvictIdleSessions()
    {
        var evicted = 0;
        foreach (var (id, session) in _sessions)
        {
            if (_time.GetElapsedTime(Volatile.Read(ref session.LastUsedTimestamp)) > _limits.SessionIdleTimeout
                && session.Lock.Wait(0))
            {
                try
                {
                    if (_time.GetElapsedTime(Volatile.Read(ref session.LastUsedTimestamp)) > _limits.SessionIdleTimeout && _sessions.TryRemove(id, out _))
                    {
                        evicted++;
                    }
                }
                finally
                {
                    session.Lock.Release();
                }
            }
        }

        return evicted;
    }

    /// <summary>The limits this server enforces.</summary>
    public BlockServerLimits Limits => _limits;

    /// <summary>Sessions held now.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>KV-cache bytes held by every session now.</summary>
    public long KvBytes => _sessions.Values.Sum(s => s.Session.KvSizeBytes);

    private int FirstBlock => _model.Weights.FirstBlock;

    private int BlockCount => _model.Weights.BlockCount;

    public override Task<InfoReply> Info(InfoRequest request, ServerCallContext context) => Task.FromResult(new InfoReply
    {
        ModelName = _model.Config.Architecture.Name,
        HiddenSize = _model.Config.HiddenSize,
        LayerCount = _model.Config.LayerCount,
        FirstBlock = FirstBlock,
        BlockCount = BlockCount,
        KeyValueDimension = _model.Config.KeyValueDimension,
        SessionCount = _sessions.Count,
        KvBytes = KvBytes,
    });

    public override async Task<ForwardReply> Forward(ForwardRequest request, ServerCallContext context)
    {
        CheckRange(request.FirstBlock, request.BlockCount);
        var hidden = TensorCodec.FromMatrix(request.Hidden, _model.Config.HiddenSize, _limits.MaxTokensPerCall, "hidden", out var tokens);
        var maxContext = _model.Config.Architecture.MaxContextTokens;
        if (maxContext > 0 && (long)request.StartPosition + tokens > maxContext)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange,
                $"A step of {tokens} tokens from position {request.StartPosition} passes the model's context of {maxContext} tokens."));
        }

        var session = GetOrCreate(request.SessionId);
        await session.Lock.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        try
        {
            var cached = session.Session.TokenCount(request.FirstBlock);
            if (request.StartPosition > cached || request.StartPosition < 0)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"Session '{request.SessionId}' has {cached} tokens cached in block {request.FirstBlock}; a step starting at position {request.StartPosition} would leave a gap. Replay from position {cached} or lower."));
            }

            // Admission: the step's new cache must fit the budget, counting what a replay frees first. Concurrent steps of
            // other sessions may each pass the check at once, so the budget can be passed by at most one step per
            // concurrent call (bounded by MaxSessions times MaxTokensPerCall rows).
            var freed = 2L * Math.Max(0, cached - request.StartPosition) * request.BlockCount * _model.Config.KeyValueDimension * sizeof(float);
            var needed = 2L * tokens * request.BlockCount * _model.Config.KeyValueDimension * sizeof(float);
            if (KvBytes - freed + needed > _limits.MaxKvBytes)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"This server's KV budget of {_limits.MaxKvBytes} bytes is full ({KvBytes} held, this step needs {needed}); try another server or later."));
            }

            session.Session.Truncate(request.StartPosition); // replay: forget what the client is sending again
            for (var block = request.FirstBlock; block < request.FirstBlock + request.BlockCount; block++)
            {
                if (session.Session.TokenCount(block) != request.StartPosition)
                {
                    throw new RpcException(new Status(StatusCode.FailedPrecondition,
                        $"Session '{request.SessionId}' has {session.Session.TokenCount(block)} tokens in block {block} but the step starts at {request.StartPosition}; replay the missing tokens."));
                }
            }

            _model.ForwardBlocks(session.Session, request.FirstBlock, request.BlockCount, hidden, tokens);
            return new ForwardReply
            {
                Hidden = TensorCodec.ToTensor(hidden, tokens, _model.Config.HiddenSize),
                CachedTokens = session.Session.TokenCount(request.FirstBlock),
            };
        }
        finally
        {
            session.Lock.Release();
        }
    }

    public override async Task ExportKv(ExportKvRequest request, IServerStreamWriter<KvBlock> responseStream, ServerCallContext context)
    {
        CheckRange(request.FirstBlock, request.BlockCount);
        if (!_sessions.TryGetValue(request.SessionId, out var session))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Session '{request.SessionId}' is not held by this server (closed, timed out, or never opened)."));
        }

        Volatile.Write(ref session.LastUsedTimestamp, _time.GetTimestamp());

        for (var block = request.FirstBlock; block < request.FirstBlock + request.BlockCount; block++)
        {
            KvBlock message;
            await session.Lock.WaitAsync(context.CancellationToken).ConfigureAwait(false);
            try
            {
                // One copy, from the cache straight into the message's bytes.
                var cache = session.Session.Cache(block);
                message = new KvBlock
                {
                    SessionId = request.SessionId,
                    BlockIndex = block,
                    TokenCount = cache.TokenCount,
                    KeyValueDimension = cache.KeyValueDimension,
                    Keys = TensorCodec.ToBytes(cache.Keys.Span),
                    Values = TensorCodec.ToBytes(cache.Values.Span),
                };
            }
            finally
            {
                session.Lock.Release();
            }

            await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task<ImportKvReply> ImportKv(IAsyncStreamReader<KvBlock> requestStream, ServerCallContext context)
    {
        var reply = new ImportKvReply();
        await foreach (var block in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            CheckRange(block.BlockIndex, 1);
            if (block.KeyValueDimension != _model.Config.KeyValueDimension || block.TokenCount < 0 || (_model.Config.Architecture.MaxContextTokens > 0 && block.TokenCount > _model.Config.Architecture.MaxContextTokens))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"KV block {block.BlockIndex} has width {block.KeyValueDimension} and {block.TokenCount} tokens; this model needs width {_model.Config.KeyValueDimension} and at most {_model.Config.Architecture.MaxContextTokens} tokens."));
            }

            var length = block.TokenCount * block.KeyValueDimension;
            TensorCodec.CheckLength(block.Keys, length, "keys");
            TensorCodec.CheckLength(block.Values, length, "values");
            if (KvBytes + (2L * length * sizeof(float)) > _limits.MaxKvBytes)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"This server's KV budget of {_limits.MaxKvBytes} bytes cannot take block {block.BlockIndex} ({2L * length * sizeof(float)} bytes, {KvBytes} held); try another server or later."));
            }

            var session = GetOrCreate(block.SessionId);
            await session.Lock.WaitAsync(context.CancellationToken).ConfigureAwait(false);
            try
            {
                // One copy, from the message's bytes straight into the cache.
                TensorCodec.LoadInto(session.Session.Cache(block.BlockIndex), block);
            }
            finally
            {
                session.Lock.Release();
            }

            reply.BlockCount++;
            reply.Bytes += 2L * length * sizeof(float);
        }

        return reply;
    }

    public override Task<CloseSessionReply> CloseSession(CloseSessionRequest request, ServerCallContext context) =>
        Task.FromResult(new CloseSessionReply { Existed = _sessions.TryRemove(request.SessionId, out _) });

    private void CheckRange(int firstBlock, int blockCount)
    {
        if (blockCount < 1 || firstBlock < FirstBlock || firstBlock + blockCount > FirstBlock + BlockCount)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Blocks [{firstBlock}, {firstBlock + blockCount}) are not all hosted here; this server hosts [{FirstBlock}, {FirstBlock + BlockCount})."));
        }
    }

    private ServerSession GetOrCreate(string sessionId)
    {
        if (string.IsNullOrEmpty(sessionId) || sessionId.Length > 128)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "session_id must be 1 to 128 characters."));
        }

        if (_sessions.TryGetValue(sessionId, out var existing))
        {
            Volatile.Write(ref existing.LastUsedTimestamp, _time.GetTimestamp());
            return existing;
        }

        if (_sessions.Count >= _limits.MaxSessions)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"This server holds its limit of {_limits.MaxSessions} sessions; try another server or later."));
        }

        return _sessions.GetOrAdd(sessionId, _ => new ServerSession(_model.CreateSession(), _time.GetTimestamp()));
    }

    private sealed class ServerSession(InferenceSession session, long createdTimestamp)
    {
        // Read and written with Volatile: calls touch it while the eviction timer reads it.
        public long LastUsedTimestamp = createdTimestamp;

        public InferenceSession Session { get; } = session;

        public SemaphoreSlim Lock { get; } = new(1, 1);
    }
}
