defmodule W do
  use GenServer
  def init(s), do: {:ok, s}
  def handle_call(:get, _f, s), do: {:reply, s, s}
  def handle_call(:stop, _f, s), do: {:stop, :normal, :bye, s}
  def handle_cast({:add, n}, s), do: {:noreply, s + n}
  def handle_info(_m, s), do: {:noreply, s, 10}
end
{:ok, s} = GenServer.start_link(W, %{a: 1, b: "x"})
:sys.trace(s, true)
IO.inspect(:sys.get_status(s), label: "get_status tracing")
GenServer.call(s, :get)
send(s, {:hello, [1,2], <<"bin">>, 1.5})
Process.sleep(30)
:sys.suspend(s)
:sys.resume(s)
GenServer.call(s, :stop)
Process.sleep(10)
