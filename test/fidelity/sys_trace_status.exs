defmodule W do
  use GenServer
  def start_link(a), do: GenServer.start_link(__MODULE__, a)
  def init(s), do: {:ok, s}
  def handle_call(:get, _f, s), do: {:reply, s, s}
  def handle_call({:add, n}, _f, s), do: {:reply, :ok, s + n}
  def handle_cast({:add, n}, s), do: {:noreply, s + n}
  def handle_info(m, s), do: {:noreply, s}
end
{:ok, sup} = Supervisor.start_link([], strategy: :one_for_one, auto_shutdown: :any_significant)
IO.inspect(Supervisor.start_child(sup, %{id: :y, start: {W, :start_link, [1]}, restart: :permanent, significant: true}), label: "bad_combination perm any_sig")
{:ok, s} = GenServer.start(W, 0, name: :counter)
:sys.trace(s, true)
GenServer.call(s, :get)
GenServer.cast(s, {:add, 2})
send(s, :hello)
GenServer.call(:counter, {:add, 1})
Process.sleep(50)
:sys.trace(s, false)
IO.inspect(:sys.get_status(s), label: "get_status")
IO.inspect(:sys.get_status(sup), label: "get_status sup")
