// The seed CNN's forward pass and loss on a Fashion-MNIST batch, written by
// hand in the kiln dialect with every intermediate size left to
// kiln-shape-inference. `make run` compiles it until the Kiln language exists.
func.func @cnn_loss(%images: tensor<64x1x28x28xf32>, %labels: tensor<64xi64>,
                    %conv1_weight: tensor<32x1x3x3xf32>, %conv1_bias: tensor<32xf32>,
                    %conv2_weight: tensor<64x32x3x3xf32>, %conv2_bias: tensor<64xf32>,
                    %fc1_weight: tensor<128x3136xf32>, %fc1_bias: tensor<128xf32>,
                    %fc2_weight: tensor<10x128xf32>, %fc2_bias: tensor<10xf32>)
    -> (tensor<f32>, tensor<?xi64>) {
  %c1 = kiln.conv2d %images, %conv1_weight, %conv1_bias {padding = array<i64: 1, 1>}
      : (tensor<64x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<?x?x?x?xf32>
  %r1 = kiln.relu %c1 : tensor<?x?x?x?xf32>
  %p1 = kiln.max_pool2d %r1 {kernel = array<i64: 2, 2>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %c2 = kiln.conv2d %p1, %conv2_weight, %conv2_bias {padding = array<i64: 1, 1>}
      : (tensor<?x?x?x?xf32>, tensor<64x32x3x3xf32>, tensor<64xf32>) -> tensor<?x?x?x?xf32>
  %r2 = kiln.relu %c2 : tensor<?x?x?x?xf32>
  %p2 = kiln.max_pool2d %r2 {kernel = array<i64: 2, 2>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %flat = kiln.flatten %p2 {start_dim = 1 : i64} : (tensor<?x?x?x?xf32>) -> tensor<?x?xf32>
  %h = kiln.linear %flat, %fc1_weight, %fc1_bias
      : (tensor<?x?xf32>, tensor<128x3136xf32>, tensor<128xf32>) -> tensor<?x?xf32>
  %hr = kiln.relu %h : tensor<?x?xf32>
  %logits = kiln.linear %hr, %fc2_weight, %fc2_bias
      : (tensor<?x?xf32>, tensor<10x128xf32>, tensor<10xf32>) -> tensor<?x?xf32>
  %loss = kiln.cross_entropy %logits, %labels : (tensor<?x?xf32>, tensor<64xi64>) -> tensor<f32>
  %predictions = kiln.argmax %logits {axis = 1 : i64} : (tensor<?x?xf32>) -> tensor<?xi64>
  return %loss, %predictions : tensor<f32>, tensor<?xi64>
}
