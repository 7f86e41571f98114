"""kombu's Redis transport, with one fix: a worker survives Redis going away while it holds
unacknowledged messages (tasks with a countdown, tasks running with acks_late).

The crash it prevents ("Unrecoverable error: AttributeError('NoneType' object has no attribute
'hostname')", kombu issue #582, still in kombu 5.7): when Celery's consumer loses the broker it
calls ``Connection.collect()``, which detaches the transport from the connection
(``transport.client = None``) but keeps the connection's default channel; it then closes the
connection, which closes that channel, whose QoS tries to put the unacknowledged messages back
in their queue through a new Redis client built from ``transport.client.hostname``. The
AttributeError is not a connection error, escapes ``ignore_errors`` and stops the worker. The
gossip, mingle and heartbeat steps are not involved: the worker dies with all three disabled.

Skipping that restore loses nothing: the broker is unreachable at that moment anyway, Redis keeps
the messages in its ``unacked`` hash (redelivered after the visibility timeout) when it kept its
data, and the sweepers enqueue again from Postgres whatever the broker lost.
"""

from __future__ import annotations

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self) -> None:
        transport = self.connection  # None once the channel was closed
        if self._qos is not None and (transport is None or transport.client is None):
            # Collected: no client left to restore with (see the module docstring).
            self._qos.restore_at_shutdown = False
        super().close()


class Transport(redis.Transport):
    Channel = Channel
