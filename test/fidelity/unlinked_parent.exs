defmodule T do
  use GenServer
  def init(p), do: (Process.flag(:trap_exit, true); {:ok, p})
  def handle_info(m, p), do: (send(p, {:info, m}); {:noreply, p})
  def terminate(r, p), do: send(p, {:terminate, r})
end
me = self()
starter = spawn(fn ->
  {:ok, s} = GenServer.start(T, me)
  send(me, {:server, s})
  Process.link(s)
  receive do :go -> exit(:bye) end
end)
s = receive do {:server, s} -> s end
Process.sleep(20)
send(starter, :go)
Process.sleep(20)
IO.inspect(Process.alive?(s), label: "unlinked-started server alive after its starter's EXIT")
receive do m -> IO.inspect(m, label: "server reported") after 50 -> IO.puts("nothing") end
IO.inspect(elem(:sys.get_status(s), 3) |> Enum.at(2) == s, label: "Parent is the server itself")
