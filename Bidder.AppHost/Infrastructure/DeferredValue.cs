using Aspire.Hosting.ApplicationModel;

namespace Bidder.AppHost.Infrastructure;

/// <summary>
/// A value that exists only once its resource has started (the embedded broker's port, say): readers of
/// a connection string that contains it wait until it is set.
/// </summary>
internal sealed class DeferredValue(string manifestExpression) : IValueProvider, IManifestExpressionProvider
{
    private readonly TaskCompletionSource<string> _value = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string ValueExpression => manifestExpression;

    public bool IsSet => _value.Task.IsCompletedSuccessfully;

    public void Set(string value) => _value.TrySetResult(value);

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
        await _value.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
}
