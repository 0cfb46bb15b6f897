// mixpe_pe -- MixPE shift-and-add processing element (output stationary, bit-parallel).
//
// Function (every rising edge of clk):
//   a_out <= a_in, q_out <= q_in                      (activation right, weight down)
//   psum  <= (first ? 0 : psum) + sum over set bits i of q_in of (a_in << i)
// The multiplier is replaced by shift-and-add: a W-bit unsigned weight code q selects
// shifted copies of the activation, summed by an adder tree in one cycle. `first` marks
// the first K element of a quantization group: the raw sum restarts (the previous
// group's sum has been read by the dequantization unit; see mixpe_dequant).
// Arithmetic: a_in signed int8; q_in unsigned WBITS-bit code; psum signed int32 wrapping
// modulo 2^32 -- model accsim.functional.mixpe.shift_add_mac.
// Handshake: none (valid-free), latency 1 cycle, initiation interval 1 --
// accsim.functional.mixpe.MIXPE_TIMING["mixpe_pe"].
// Reset: synchronous, active high; clears a_out, q_out and psum.
`timescale 1ns/1ps
module mixpe_pe #(
    parameter WBITS = 4                 // weight code width, 2..8
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    first,
    input  wire signed [7:0]       a_in,
    input  wire [WBITS-1:0]        q_in,
    output reg  signed [7:0]       a_out,
    output reg  [WBITS-1:0]        q_out,
    output reg  signed [31:0]      psum
);
    wire signed [31:0] a_ext = {{24{a_in[7]}}, a_in};
    reg  signed [31:0] shifted_sum;
    integer i;

    always @* begin
        shifted_sum = 32'sd0;
        for (i = 0; i < WBITS; i = i + 1)
            if (q_in[i])
                shifted_sum = shifted_sum + (a_ext <<< i);
    end

    always @(posedge clk) begin
        if (rst) begin
            a_out <= 8'sd0;
            q_out <= {WBITS{1'b0}};
            psum <= 32'sd0;
        end else begin
            a_out <= a_in;
            q_out <= q_in;
            psum <= (first ? 32'sd0 : psum) + shifted_sum;
        end
    end
endmodule
